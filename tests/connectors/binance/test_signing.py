"""Signing against the reference's test vectors (binance.md A3), both payload rules, and secret hygiene."""
from __future__ import annotations

import base64
from urllib.parse import urlencode

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.binance.config import BinanceCredentials
from connectors.binance.signing import Ed25519Signer, HmacSigner, rest_query, signed_rest_query, ws_api_payload
from connectors.emulator.binance.auth import ApiKey, rest_payload

SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
ORDER = [("symbol", "LTCBTC"), ("side", "BUY"), ("type", "LIMIT"), ("timeInForce", "GTC"), ("quantity", "1"),
         ("price", "0.1"), ("recvWindow", "5000"), ("timestamp", "1499827319559")]


def test_rest_hmac_vector() -> None:
    query = rest_query(ORDER)
    assert query == "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
    assert HmacSigner(SECRET).sign(query) == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_rest_hmac_vector_non_ascii_is_signed_percent_encoded() -> None:
    params = [("symbol", "１２３４５６"), *ORDER[1:]]
    query = rest_query(params)
    assert query.startswith("symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY")
    assert HmacSigner(SECRET).sign(query) == "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
    assert signed_rest_query(params, HmacSigner(SECRET)).endswith(
        "&signature=e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3")


def test_ws_api_vector_sorted_not_encoded() -> None:
    params = {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.01000000",
              "price": "52000.00", "recvWindow": 100, "timestamp": 1645423376532, "apiKey": API_KEY}
    payload = ws_api_payload(params)
    assert payload == (f"apiKey={API_KEY}&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT"
                       "&timeInForce=GTC&timestamp=1645423376532&type=LIMIT")
    assert HmacSigner(SECRET).sign(payload) == "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"
    assert ws_api_payload({**params, "signature": "x"}) == payload


def test_ws_api_vector_non_ascii_raw_utf8() -> None:
    params = {"symbol": "１２３４５６", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "1.00000000",
              "price": "0.10000000", "recvWindow": 5000, "timestamp": 1645423376532, "apiKey": API_KEY}
    payload = ws_api_payload(params)
    assert "symbol=１２３４５６" in payload
    assert HmacSigner(SECRET).sign(payload) == "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd"


def test_ed25519_signature_is_base64_percent_encoded_and_verifies() -> None:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    signer = Ed25519Signer.from_pem(pem)
    query = signed_rest_query(ORDER, signer)
    raw_sig = signer.sign(rest_query(ORDER))
    assert len(raw_sig) == 88 and len(base64.b64decode(raw_sig)) == 64
    # the emulator's verifier recovers payload and signature from the raw query and accepts it
    payload, signature = rest_payload(query, "")
    assert payload == rest_query(ORDER) and signature == raw_sig
    assert ApiKey("k", "acct", public_key=key.public_key()).verify(payload, signature)
    assert not ApiKey("k", "acct", public_key=Ed25519PrivateKey.generate().public_key()).verify(payload, signature)


def test_secrets_stay_out_of_repr() -> None:
    creds = BinanceCredentials.hmac(API_KEY, SECRET)
    text = repr(creds) + repr(creds.signer)
    assert SECRET not in text and API_KEY not in text


@settings(max_examples=200)
@given(st.lists(st.tuples(st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=12),
                          st.text(min_size=0, max_size=20)), max_size=8, unique_by=lambda kv: kv[0]))
def test_hmac_signed_query_verifies_on_the_server_side(params: list[tuple[str, str]]) -> None:
    """Whatever the values (non-ASCII, reserved characters), what we send is what the server verifies."""
    query = signed_rest_query([p for p in params if p[0] != "signature"], HmacSigner(SECRET))
    payload, signature = rest_payload(query, "")
    assert ApiKey("k", "acct", secret=SECRET).verify(payload, signature)


@settings(max_examples=300)
@given(st.lists(st.tuples(st.one_of(st.text(max_size=12), st.from_regex(r"[A-Za-z0-9_.~=&-]{0,6}", fullmatch=True)),
                          st.one_of(st.text(max_size=20), st.from_regex(r"[A-Za-z0-9_.~-]{0,20}", fullmatch=True),
                                    st.from_regex(r"[A-Za-z0-9_.~=&-]{0,8}", fullmatch=True))),
                max_size=8))
def test_rest_query_is_urlencode_exactly(params: list[tuple[str, str]]) -> None:
    """The unreserved fast path changes nothing: reserved, non-ASCII and empty names and values included."""
    assert rest_query(params) == urlencode(params)
