"""Classroom links: a page as a teacher set it up, some controls hidden and a short task shown.

    ?classroom=1&hide=optimizer,lr&task=Find+the+smallest+network+that+separates+the+spiral

The settings themselves travel as usual URL parameters (config.to_params). Like every URL
setting, bad parameters are reported, never fatal: unknown control names are left out and said,
an over-long task is cut and said."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Mapping

from playground import config as cfg

PARAMS = ("classroom", "hide", "task")
MAX_TASK = 300
ON = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Lesson:
    hide: frozenset[str] = field(default_factory=frozenset)   # knob names left out of the sidebar
    task: str = ""


def from_params(params: Mapping[str, Any]) -> tuple[Lesson | None, list[str]]:
    """The lesson in a link's parameters (None without classroom=1), and what was wrong with them."""
    raw = {k: str(v[-1] if isinstance(v, list) else v) for k, v in params.items() if k in PARAMS}
    if raw.get("classroom", "").strip().lower() not in ON:
        stray = sorted(set(raw) - {"classroom"})
        return None, [f"{' and '.join(stray)} only work in a classroom link (with classroom=1)"] if stray else []
    problems = []
    names = [n.strip().lower().replace("-", "_") for n in raw.get("hide", "").split(",") if n.strip()]
    unknown = [n for n in names if n not in cfg.KNOBS]
    if unknown:
        problems.append(f"unknown controls to hide, left visible: {', '.join(unknown[:5])}"
                        f"{' ...' if len(unknown) > 5 else ''} (known: {', '.join(cfg.KNOBS)})")
    task = " ".join(raw.get("task", "").split())        # one line: no control characters, no layout
    if len(task) > MAX_TASK:
        problems.append(f"the task has {len(task):,} characters; the first {MAX_TASK} are shown")
        task = task[:MAX_TASK].rstrip() + "…"
    return Lesson(frozenset(n for n in names if n in cfg.KNOBS), task), problems


def to_params(lesson: Lesson) -> dict[str, str]:
    out = {"classroom": "1"}
    if lesson.hide:
        out["hide"] = ",".join(n for n in cfg.KNOBS if n in lesson.hide)
    if lesson.task:
        out["task"] = lesson.task
    return out


def qr_png(url: str, scale: int = 6) -> bytes:
    """The link as a QR code (PNG), to show on the projector."""
    import segno
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=scale, border=2)
    return out.getvalue()
