"""Command line: ``nnsim`` opens the main window; ``nnsim --version`` prints the version."""

from __future__ import annotations

import argparse

import nnsim


def build_parser() -> argparse.ArgumentParser:
    from nnsim.panels import PANELS

    p = argparse.ArgumentParser(prog="nnsim", description="A neural-network teaching simulator.")
    p.add_argument("--version", action="version", version=f"nnsim {nnsim.__version__}")
    p.add_argument("--panel", choices=[k for k, _, _ in PANELS], help="open this panel first")
    p.add_argument("--report-shown", action="store_true", help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from nnsim.app import run  # Qt is imported only when the GUI is wanted

    return run(panel=args.panel, report_shown=args.report_shown)
