"""A target is a context manager: started on entry, closed on exit, and closed as well when
starting fails half-way (a deploy that failed still leaves a stack to destroy)."""

from __future__ import annotations


class Lifecycle:
    def start(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()
