"""The mutation score per engine module, from mutmut's results in mutants/ (make mutation).

    python scripts/mutation_report.py                 # the table
    python scripts/mutation_report.py --survivors jobs   # the mutants of one module that lived
    python scripts/mutation_report.py --json out.json    # the table as JSON too
    python scripts/mutation_report.py --unchecked jobs --every 8   # every 8th mutant not checked yet

The last form picks a fixed sample to check when a whole module would take too long:
    make mutation MUTANTS="$(python scripts/mutation_report.py --unchecked jobs --every 8)"

A mutant is *killed* when a test failed with it (mutmut's "killed", or "timeout": the mutant made
the tests hang, so they noticed). *Lived* are mutmut's "survived" and "no tests" (no test of the
mutation run calls the function at all). Score = killed / (killed + lived); mutants not checked
yet are counted separately and left out of the score.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

MUTANTS = Path("mutants")
# issue 13's eight engine modules; datasets/ counts as one
MODULES = ("config", "models", "training", "evaluation", "digits", "checkpoints", "jobs", "datasets")
KILLED = {1: "killed", 3: "killed", -24: "timeout", 24: "timeout", 36: "timeout", 152: "timeout",
          255: "timeout", -11: "killed"}
LIVED = {0: "survived", 5: "no tests", 33: "no tests"}


def module_of(meta: Path) -> str:
    source = meta.relative_to(MUTANTS).as_posix().removesuffix(".meta")
    if source.startswith("datasets/"):
        return "datasets"
    return Path(source).stem


def outcome(exit_code: int | None) -> str:
    if exit_code is None:
        return "not checked"
    return KILLED.get(exit_code) or LIVED.get(exit_code) or f"exit {exit_code}"


def results() -> dict[str, dict[str, str]]:
    """module -> {mutant name: outcome}"""
    by_module: dict[str, dict[str, str]] = {m: {} for m in MODULES}
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        module = module_of(meta)
        if module not in by_module:
            continue
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        by_module[module].update({name: outcome(code) for name, code in codes.items()})
    return by_module


def score_row(module: str, outcomes: dict[str, str]) -> dict:
    counts = Counter(outcomes.values())
    killed = counts["killed"] + counts["timeout"]
    lived = counts["survived"] + counts["no tests"]
    return {"module": module, "mutants": len(outcomes), "killed": counts["killed"], "timeout": counts["timeout"],
            "survived": counts["survived"], "no tests": counts["no tests"], "not checked": counts["not checked"],
            "score": round(100 * killed / (killed + lived), 1) if killed + lived else None}


def table(rows: list[dict]) -> str:
    head = ("module", "mutants", "killed", "timeout", "survived", "no tests", "not checked", "score")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        score = "-" if row["score"] is None else f"{row['score']}%"
        lines.append("| " + " | ".join(str(row[h]) for h in head[:-1]) + f" | {score} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--survivors", metavar="MODULE", help="list the mutants of MODULE that lived")
    parser.add_argument("--json", type=Path, help="also write the table here")
    parser.add_argument("--unchecked", metavar="MODULE", help="list the mutants of MODULE not checked yet")
    parser.add_argument("--every", type=int, default=1, help="with --unchecked: every k-th of them, in mutmut's order")
    args = parser.parse_args(argv)
    if not MUTANTS.is_dir():
        print("no mutants/ folder here: run `make mutation` first", file=sys.stderr)
        return 2
    by_module = results()
    if args.unchecked:
        names = [name for name, what in by_module[args.unchecked].items() if what == "not checked"]
        print(" ".join(names[::args.every]))
        return 0
    if args.survivors:
        for name, what in sorted(by_module[args.survivors].items()):
            if what in LIVED.values():
                print(f"{what:9} {name}")
        return 0
    rows = [score_row(m, by_module[m]) for m in MODULES]
    print(table(rows))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
