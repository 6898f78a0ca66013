"""Fault suite (issues #8 and #11): kill Elasticsearch, the indexer or a worker mid-run, stall a
camera stream, restart each, then check Elasticsearch against the journal and the simulator's
ground truth. Entry point: ``scripts/faults`` (``--short`` for CI); see :mod:`anpr.faults.cli`.
"""
