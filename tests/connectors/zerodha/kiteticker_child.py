"""Run the official KiteTicker (Twisted) against the emulator; print the first full-mode tick as JSON.

Used by test_kiteconnect_fidelity.py in a child process (Twisted's reactor cannot restart in-process).
Arguments: ws_url api_key access_token token
"""
import json
import sys

from kiteconnect import KiteTicker


def main() -> None:
    ws_url, api_key, access_token, token = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    ticker = KiteTicker(api_key, access_token, root=ws_url, reconnect=False)

    def on_connect(ws, response):  # noqa: ANN001
        ws.subscribe([token])
        ws.set_mode(ws.MODE_FULL, [token])

    def on_ticks(ws, ticks):  # noqa: ANN001
        full = [t for t in ticks if t.get("mode") == "full"]
        if full:
            print(json.dumps(full[0], default=str), flush=True)
            ws.stop()

    ticker.on_connect = on_connect
    ticker.on_ticks = on_ticks
    ticker.connect(threaded=False)


if __name__ == "__main__":
    main()
