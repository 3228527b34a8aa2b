"""python -m wansim: serve the simulated API until SIGTERM or SIGINT.

Every flag falls back to a WANSIM_* environment variable, then to SimConfig's default.
"""

import argparse
import signal
import threading

from .config import SimConfig
from .server import Simulator


def parse_config(argv: list[str] | None = None) -> SimConfig:
    defaults = SimConfig.from_env()
    parser = argparse.ArgumentParser(prog="python -m wansim", description=__doc__)
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--port", type=int, default=defaults.port, help="0 picks a free port")
    parser.add_argument("--api-key", default=defaults.api_key)
    parser.add_argument("--data-dir", default=defaults.data_dir, help="default: a temporary dir")
    parser.add_argument("--queue-seconds", type=float, default=defaults.queue_seconds)
    parser.add_argument("--process-seconds", type=float, default=defaults.process_seconds)
    parser.add_argument("--spread", type=float, default=defaults.spread)
    parser.add_argument("--webhook-fault", default=defaults.webhook_fault)
    parser.add_argument("--webhook-delay", type=float, default=defaults.webhook_delay)
    parser.add_argument("--video-ttl", type=int, default=defaults.video_ttl)
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args(argv)
    overrides = {name: value for name, value in vars(args).items() if name != "quiet"}
    overrides["log_requests"] = not args.quiet
    try:
        return defaults.updated(overrides)
    except ValueError as error:
        parser.error(str(error))


def main(argv: list[str] | None = None) -> None:
    config = parse_config(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    simulator = Simulator(config).start()
    # Launchers and tests wait for this exact line before talking to the simulator.
    print(f"wansim listening on {simulator.base_url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        simulator.stop()


if __name__ == "__main__":
    main()
