"""The top floor: everything that runs the service rather than being it.

The `anpr` command (`cli.py`, `__main__.py`), the local demo, the one process launcher
(`launcher.py`) that the demo, the fault suite, the benchmarks and the end-to-end tests start
and stop processes with, the test/bench harness (HTTP client, alert-stream reader), the camera
simulator, the fault suite and every benchmark. It may import every package below it
(`training`, `lpr`, `indexer`, `search_api`, `anpr_core`); nothing below imports it.
"""
