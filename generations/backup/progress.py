"""Progress of a long step: a line that counts up on a terminal, one line per step otherwise."""

import time

REDRAW_SECONDS = 0.1


class Progress:
    def __init__(self, out):
        self.out = out
        self.on_terminal = bool(getattr(out, "isatty", lambda: False)())

    def step(self, label, total):
        return Step(self, label, total)

    def say(self, text):
        self.out.write(text)


class Step:
    def __init__(self, progress, label, total):
        self.progress = progress
        self.label = label
        self.total = total
        self.done = 0
        self.bytes = 0
        self.drawn_at = 0.0

    def advance(self, size=0):
        self.done += 1
        self.bytes += size
        now = time.monotonic()
        if self.progress.on_terminal and now - self.drawn_at >= REDRAW_SECONDS:
            self.drawn_at = now
            self.progress.out.write(f"\r{self.line()}", ending="")
            self.progress.out.flush()

    def finish(self, note=""):
        end = f"\r{self.line()}" if self.progress.on_terminal else self.line()
        self.progress.out.write(end + (f", {note}" if note else ""))

    def line(self):
        return f"{self.label}: {self.done}/{self.total} ({megabytes(self.bytes)})"


def megabytes(size):
    return f"{size / 1_000_000:.1f} MB"
