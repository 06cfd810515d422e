"""scripts/mutation_report.py: the score per module from mutmut's result files."""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("mutation_report", ROOT / "scripts" / "mutation_report.py")
report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(report)


def write_meta(folder: Path, source: str, codes: dict) -> None:
    path = folder / "mutants" / f"{source}.meta"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"exit_code_by_key": codes, "hash_by_function_name": {}}))


def test_scores_count_timeouts_as_killed_and_no_tests_as_lived(tmp_path, monkeypatch, capsys):
    write_meta(tmp_path, "playground/digits.py", {"d1": 1, "d2": 1, "d3": -24, "d4": 0, "d5": 33, "d6": None})
    write_meta(tmp_path, "datasets/toy.py", {"t1": 1, "t2": 0})
    write_meta(tmp_path, "datasets/points.py", {"p1": 1, "p2": 1})
    write_meta(tmp_path, "playground/charts.py", {"c1": 0})           # not one of the eight: left out
    monkeypatch.chdir(tmp_path)
    assert report.main(["--json", "out/mutation.json"]) == 0
    rows = {r["module"]: r for r in json.loads((tmp_path / "out" / "mutation.json").read_text())}
    assert rows["digits"] == {"module": "digits", "mutants": 6, "killed": 2, "timeout": 1, "survived": 1,
                              "no tests": 1, "not checked": 1, "score": 60.0}      # 3 of 5 checked
    assert rows["datasets"]["mutants"] == 4 and rows["datasets"]["score"] == 75.0
    assert rows["config"]["score"] is None and "charts" not in rows
    assert "| digits | 6 | 2 | 1 | 1 | 1 | 1 | 60.0% |" in capsys.readouterr().out


def test_survivors_and_a_sample_of_the_unchecked(tmp_path, monkeypatch, capsys):
    write_meta(tmp_path, "playground/jobs.py", {f"j{i}": None for i in range(10)} | {"a": 0, "b": 5, "c": 1})
    monkeypatch.chdir(tmp_path)
    report.main(["--survivors", "jobs"])
    assert capsys.readouterr().out.split("\n")[:2] == ["survived  a", "no tests  b"]
    report.main(["--unchecked", "jobs", "--every", "4"])
    assert capsys.readouterr().out.split() == ["j0", "j4", "j8"]
