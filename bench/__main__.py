"""python -m bench: measure the studio on this machine and print tables. Loopback only.

Uses PostgreSQL when DATABASE_URL names a server (a fresh database, dropped at the end) and
Redis when REDIS_URL is set; otherwise a SQLite file and the ORM broker. Numbers are for reading,
never asserted: the machine is shared, so each page is measured beside the floor in rounds.
"""

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

SECTIONS = ("pages", "pipeline", "memory")


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", choices=SECTIONS, action="append", help="repeatable")
    parser.add_argument(
        "--generations",
        type=count,
        default=100_000,
        help="seeded for the pages (100k, 1m or a number; default 100k)",
    )
    parser.add_argument("--people", type=int, default=30, help="who made them (20-50 is a team)")
    parser.add_argument("--seconds", type=float, default=3.0, help="per page per round")
    parser.add_argument(
        "--floor-seconds", type=float, default=1.5, help="of the floor right before each page"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--pipeline", type=int, default=100, help="generations through the API")
    parser.add_argument("--time-scale", type=float, default=10.0)
    parser.add_argument(
        "--rate", type=int, default=20, help="WAN_API_RATE_PER_MINUTE, in real (uncompressed) time"
    )
    parser.add_argument("--webhooks", choices=("on", "off", "both"), default="both")
    parser.add_argument("--clusters", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="Q_WORKERS of each cluster")
    parser.add_argument("--naive-tasks", type=int, default=20)
    parser.add_argument("--video-mb", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    args = parser.parse_args(argv)
    if args.generations < 1000:
        parser.error("--generations: at least 1000 (the pages need a history)")
    return args


def count(text):
    """100000, 100k or 1m."""
    multiplier = {"k": 1_000, "m": 1_000_000}.get(text[-1:].lower(), 1)
    return int(float(text.rstrip("kKmM").replace("_", "")) * multiplier)


def table(rows, columns):
    """First column to the left, numbers to the right."""
    cells = [columns] + [[format_cell(row[column]) for column in columns] for row in rows]
    widths = [max(len(line[index]) for line in cells) for index in range(len(columns))]
    lines = [
        "  ".join(
            cell.ljust(width) if index == 0 else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(line, widths, strict=True))
        )
        for line in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def format_cell(value):
    if isinstance(value, float):
        return f"{value:.2f}" if value < 10 else f"{value:.0f}"
    return str(value)


def pairs(title, values):
    width = max(len(key) for key in values)
    return "\n".join([title, *(f"  {key.ljust(width)}  {value}" for key, value in values.items())])


def main(argv=None):
    args = parse(argv)
    sections = args.only or list(SECTIONS)
    began = time.monotonic()
    from .stack import Stack

    workdir = Path(tempfile.mkdtemp(prefix="wanstudio-bench-"))
    stack = Stack(workdir)
    stack.apply_env()
    stack.create_database()
    output = [f"WanStudio bench: {stack.describe()}; gunicorn, {args.web_workers} sync workers"]
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        stack.start_web(workers=args.web_workers)
        from . import memory, pages, pipeline, seed

        started = time.monotonic()
        seeded = seed.seed(args.generations, args.people)
        seeding = time.monotonic() - started
        print(f"seeded {args.generations:,} generations in {seeding:.1f} s")
        user = seeded.people[0].user
        if "pages" in sections:
            started = time.monotonic()
            team = pages.Team(seeded)
            rows, slowest = pages.measure(
                stack.web_port,
                team,
                args.seconds,
                args.floor_seconds,
                args.rounds,
                args.concurrency,
            )
            roles = Counter(person.role for person in seeded.people)
            output.append(
                f"\nPages, {args.generations:,} generations (seeded in {seeding:.0f} s) of "
                f"{len(seeded.people)} people ({', '.join(f'{n} {r}s' for r, n in roles.items())})"
                f", each request as one of them; {args.concurrency} clients, {args.rounds} rounds "
                f"of {args.seconds:g} s per page, each right after {args.floor_seconds:g} s of "
                f"the floor; measured in {time.monotonic() - started:.0f} s"
            )
            output.append(table(rows, list(rows[0])))
            output.append(pages.LEGEND.format(followed=team.followed))
            output.append(pages.idle_pages_line(rows))
            output.append(pages.slowest_lines(slowest))
        pages.retire_running_seeds()
        if "pipeline" in sections:
            result = pipeline.run(
                stack,
                user,
                count=args.pipeline,
                scale=args.time_scale,
                rate_per_minute=args.rate,
                clusters=args.clusters,
                workers=args.workers,
                naive_tasks=args.naive_tasks,
                webhooks=args.webhooks,
            )
            output.append("\n" + pairs("Pipeline, against the simulator", result))
        if "memory" in sections:
            result = memory.run(stack, user, args.video_mb)
            output.append("\n" + pairs("Memory of a worker downloading a result", result))
    finally:
        stack.stop_all()
        from django.db import connections

        connections.close_all()
        stack.drop_database()
        if args.keep:
            print(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    output.append(f"\n(the whole bench took {time.monotonic() - began:.0f} s)")
    print("\n".join(output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
