"""Binance diff-depth: parse + apply throughput of our DepthParser/DepthSync against a plain reference.

Reference: json.loads, Decimal for every price and quantity, and a sortedcontainers.SortedDict per
side. Ours: orjson.loads + DepthSync.on_data, what the connector runs per frame, which also checks the
update-id sequence and builds the BookDelta that the connector publishes. Cases: synthetic
BTCUSDT-like diffs of 20 levels (10 bid + 10 ask, 30 % deletions) and the real recorded streams in
/work/shared/data.
Goal (issue 12): >= 50,000 msg/s on the 20-level case and >= 3x the reference.
"""
from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import orjson
from sortedcontainers import SortedDict

sys.path.insert(0, str(Path(__file__).parent))
from common import median_time, print_table  # noqa: E402

from connectors.binance.depth import DepthParser, DepthSync  # noqa: E402
from core.domain import InstrumentId, Venue  # noqa: E402

RECORDED = Path("/work/shared/data/binance-depth-recorded")


def synthetic(n: int, levels_per_side: int = 10, seed: int = 1, fresh: bool = False) -> tuple[list[str], int]:
    """Contiguous diff frames (combined-stream wrapped) around a drifting mid; returns (frames, first U - 1).

    Quantities: 30 % deletions, the rest lognormal sizes in 0.0001 lots, so about 80 % of quantity
    strings repeat, as in the recorded streams (74 %); fresh=True makes every quantity new (worst case).
    """
    rng = random.Random(seed)
    mid, uid, frames = 30000.0, 1000, []
    for i in range(n):
        mid += rng.gauss(0, 0.5)

        def level(side: int) -> list[str]:
            price = round(mid - side * (int(abs(rng.gauss(0, 40))) + 1) * 0.01, 2)
            if rng.random() < 0.3:
                qty = "0.00000000"
            else:
                qty = f"{rng.random() * 3:.8f}" if fresh else f"{round(rng.lognormvariate(-1.5, 2.0), 4) + 0.0001:.8f}"
            return [f"{price:.2f}", qty]

        first = uid + 1
        uid += rng.randint(1, 30)
        data = {"e": "depthUpdate", "E": 1700000000000 + i, "s": "BTCUSDT", "U": first, "u": uid,
                "b": [level(1) for _ in range(levels_per_side)], "a": [level(-1) for _ in range(levels_per_side)]}
        frames.append(json.dumps({"stream": "btcusdt@depth@100ms", "data": data}, separators=(",", ":")))
    return frames, 1000


def recorded() -> list[tuple[bool, dict, list[str]]]:
    """(futures?, snapshot, depth frames) of every recorded symbol."""
    out = []
    for folder in sorted(p for p in RECORDED.iterdir() if p.is_dir()):
        expected = json.loads((folder / "expected.json").read_text())
        frames = (folder / "events.jsonl").read_text().splitlines()
        out.append((expected["rules"].startswith("futures"), json.loads((folder / "snapshot.json").read_text()), frames))
    return out


def reference(frames: list[str], snapshot: dict | None = None) -> None:
    bids: SortedDict = SortedDict()
    asks: SortedDict = SortedDict()
    if snapshot is not None:
        bids.update((Decimal(p), Decimal(q)) for p, q in snapshot["bids"])
        asks.update((Decimal(p), Decimal(q)) for p, q in snapshot["asks"])
    for frame in frames:
        data = json.loads(frame)["data"]
        for side, book in ((data["b"], bids), (data["a"], asks)):
            for price, qty in side:
                q = Decimal(qty)
                if q:
                    book[Decimal(price)] = q
                else:
                    book.pop(Decimal(price), None)


def ours(frames: list[str], start_id: int, futures: bool = False, snapshot: dict | None = None) -> int:
    parser = DepthParser()
    sync = DepthSync(InstrumentId(Venue.BINANCE, "X"), futures)
    if snapshot is None:
        sync.on_snapshot(start_id, (), ())
    else:
        sync.on_snapshot(snapshot["lastUpdateId"], parser.parse_levels(snapshot["bids"]), parser.parse_levels(snapshot["asks"]))
    deltas = 0
    for frame in frames:  # as the connector: decode the combined-stream frame, then its data
        deltas += sync.on_data(orjson.loads(frame)["data"], parser) is not None
    return deltas


def interleaved(ref: Callable[[], object], ours_fn: Callable[[], object], rounds: int = 5) -> tuple[float, float]:
    """Best seconds per call of each, measured in alternation so a busy machine slows both alike."""
    ref_times, our_times = [], []
    for _ in range(rounds):
        ref_times.append(median_time(ref, repeat=1))
        our_times.append(median_time(ours_fn, repeat=1))
    return min(ref_times), min(our_times)


def main() -> None:
    rows = []
    for name, fresh in (("20-level diffs, realistic sizes", False), ("20-level diffs, every size new", True)):
        frames, start = synthetic(10_000, fresh=fresh)
        assert ours(frames, start) == len(frames), "synthetic stream must apply without a gap"
        ref_t, our_t = interleaved(lambda: reference(frames), lambda: ours(frames, start))
        rows.append(_row(name, len(frames), ref_t, our_t))
    rec = recorded()
    rec_frames = [f for _, _, fs in rec for f in fs]
    ref_r, our_r = interleaved(lambda: [reference(fs, snap) for _, snap, fs in rec],
                               lambda: [ours(fs, 0, fut, snap) for fut, snap, fs in rec])
    rows.append(_row(f"recorded: snapshot + diffs, {len(rec)} symbols", len(rec_frames), ref_r, our_r))
    print_table(["case", "messages", "reference us/msg", "ours us/msg", "ours msg/s", "speed-up"], rows)
    print("best of 5 interleaved runs; ours = orjson.loads + DepthSync.on_data, BookDelta included")


def _row(name: str, n: int, ref_t: float, our_t: float) -> list[object]:
    return [name, n, f"{ref_t / n * 1e6:.2f}", f"{our_t / n * 1e6:.2f}", f"{n / our_t:,.0f}", f"{ref_t / our_t:.2f}x"]


if __name__ == "__main__":
    main()
