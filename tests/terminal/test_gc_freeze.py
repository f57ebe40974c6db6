"""After start-up the terminal freezes its heap, so full collections no longer walk the catalog and window."""
from __future__ import annotations

import gc

from terminal.app import freeze_start_up_heap


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: tracked by the collector


def test_objects_alive_at_the_freeze_are_out_of_collections_and_later_ones_are_collected() -> None:
    before = [Node() for _ in range(1000)]
    try:
        freeze_start_up_heap()
        assert gc.get_freeze_count() >= 1000
        tracked = {id(o) for o in gc.get_objects()}
        assert not any(id(o) in tracked for o in before)  # frozen: a full collection skips them
        later = Node()
        assert id(later) in {id(o) for o in gc.get_objects()}
        del later
        assert gc.collect() >= 1  # what is made after the freeze is still collected
    finally:
        gc.unfreeze()  # the rest of the test session keeps the default collector
