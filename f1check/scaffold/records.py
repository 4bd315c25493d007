"""What ``init`` found: targets to list, candidates it will not list (and why), advice for the whole table."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Target:
    """One entry of ``targets``: the subject, its keys, and the comment saying where it came from and what to check."""

    spec: str  # "module:attr"
    callback: bool
    where: str  # "path:line"
    found: str  # what it was found from, one sentence
    key: str | None = None
    metrics: list[str] = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)  # what the user should check
    order: tuple = ()  # (module order, line): the table lists targets as the source has them

    def table(self) -> dict:
        """The target as ``[tool.f1check]`` holds it (what the validators read)."""
        entry = {"callback" if self.callback else "metric": self.spec}
        if self.callback:
            entry["key"] = self.key
            if self.metrics:
                entry["metrics"] = list(self.metrics)
        return {**entry, **self.settings}


@dataclass(frozen=True)
class Note:
    """A candidate not listed: ``# not listed: spec — why``."""

    spec: str
    why: str
    order: tuple = ()


@dataclass
class Findings:
    targets: list[Target] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)  # lines for the table's head (pythonpath, unreadable files)
    files: int = 0  # Python files read

    def note(self, spec: str, why: str, order: tuple = ()) -> None:
        if not any(n.spec == spec for n in self.notes):
            self.notes.append(Note(spec, why, order))

    def listed(self, spec: str) -> bool:
        return any(t.spec == spec for t in self.targets)
