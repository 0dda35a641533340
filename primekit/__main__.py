"""Command line: ``python -m primekit info | bench``."""

from __future__ import annotations

import argparse
import platform
import sys

import torch


def _info(_args) -> int:
    from . import __version__, config, paths
    from .cache import source_hash

    print(f"primekit {__version__} (source hash {source_hash()}), torch {torch.__version__}, "
          f"Python {platform.python_version()}, {torch.get_num_threads()} torch threads")
    print(f"data root: {paths.data_root()}   (raw datasets: {paths.raw_dir()})")
    profile = config.get_profile(check=False)
    print(f"profile: {profile.name} ({profile.description})")
    try:
        config.check_data(profile)
    except config.DataNotFoundError as error:
        print(f"data: missing. {error}")
    return 0


def _bench(args) -> int:
    from .bench import run_all

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}")
    for result in run_all(repeats=args.repeats):
        print(result)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m primekit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("info", help="versions, data root, active profile").set_defaults(fn=_info)
    bench = commands.add_parser("bench", help="speed benchmarks (median of repeats)")
    bench.add_argument("--repeats", type=int, default=5, help="timed repeats per benchmark (default 5)")
    bench.set_defaults(fn=_bench)
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
