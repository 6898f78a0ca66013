"""`anpr indexer`: consume the read journal into Elasticsearch and raise watchlist alerts."""

from __future__ import annotations

import argparse
import logging
import signal

from prometheus_client import Counter, Gauge, start_http_server

from anpr_core.elastic.client import make_client
from anpr_core.journal import JournalReader
from anpr_core.settings import Settings
from indexer.consumer import ReadIndexer, tune_garbage_collector
from indexer.corrections import CorrectionRematcher
from indexer.mqtt import CameraStatusPublisher, MqttPublisher
from indexer.outbox import DeliveryOutbox
from indexer.people_events import PeopleEventShipper

log = logging.getLogger(__name__)

READS_INDEXED = Counter("anpr_indexer_reads_indexed_total", "reads acknowledged by Elasticsearch")
ALERTS_RAISED = Counter("anpr_indexer_alerts_total", "watchlist alerts written")
QUARANTINED = Counter("anpr_indexer_quarantined_total", "journal records set aside as malformed")
JOURNAL_LAG = Gauge("anpr_indexer_journal_lag_bytes", "bytes in the journal not yet indexed")
ES_FAILURES = Counter("anpr_indexer_es_failures_total", "batches retried because Elasticsearch failed")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("indexer", help="journal → Elasticsearch, watchlist alerts")
    parser.add_argument("--metrics-port", type=int, default=9310, help="Prometheus /metrics (0 = off)")
    parser.add_argument("--batch-size", type=int, default=5000)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from anpr_core.elastic.mappings import ensure_indices

    client = make_client(settings)
    prefix = settings.elasticsearch.index_prefix
    ensure_indices(client, prefix)
    mqtt = MqttPublisher(settings.mqtt) if settings.mqtt.host else None
    camera_status = None
    if mqtt is not None:
        mqtt.start()
        camera_status = CameraStatusPublisher(mqtt, client, prefix, settings.mqtt.camera_status_every_s)
    # Webhooks and MQTT: every alert leaves through the durable outbox (indexer/outbox.py).
    outbox = DeliveryOutbox(client, prefix, settings.webhooks, mqtt).start()
    indexer = ReadIndexer(
        client, JournalReader(settings.paths.journal), prefix, batch_size=args.batch_size,
        on_alerts=outbox.enqueue,
    )  # fmt: skip
    # People analytics events (issue 23): the same alerts index, board and outbox as the plates.
    people = PeopleEventShipper(client, settings.paths.people, prefix, on_alerts=outbox.enqueue,
                                submit=indexer.submit_in_order)  # fmt: skip
    # Reads a person corrected in the API: the watchlist again, on the corrected text.
    rematcher = CorrectionRematcher(client, prefix, lambda: indexer.watchlist, outbox.enqueue)
    if args.metrics_port:
        start_http_server(args.metrics_port, addr="127.0.0.1")
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    tune_garbage_collector()
    log.info("indexing %s into %s-reads", settings.paths.journal, prefix)
    seen = (0, 0, 0, 0)
    while not stopping:
        indexer.step()
        stats = indexer.stats
        READS_INDEXED.inc(stats.indexed - seen[0])
        ALERTS_RAISED.inc(stats.alerts - seen[1])
        QUARANTINED.inc(stats.quarantined - seen[2])
        ES_FAILURES.inc(stats.failed_attempts - seen[3])
        seen = (stats.indexed, stats.alerts, stats.quarantined, stats.failed_attempts)
        JOURNAL_LAG.set(indexer.reader.lag_bytes())
        people.step()
        people.ship_status()
        rematcher.maybe_rematch()
        if camera_status is not None:
            camera_status.maybe_publish()
    indexer.close()  # commit the batch in flight, so a restart does not replay it
    outbox.stop()  # deliveries not finished stay pending in the outbox for the next start
    if mqtt is not None:
        mqtt.stop()
    log.info("indexer stopped after %d reads", indexer.stats.indexed)
    return 0
