"""What a node calls to have a witness cosign a checkpoint (C2SP tlog-witness)."""

from __future__ import annotations

import base64
from collections.abc import Sequence

import httpx

from hotline.domain.errors import HotlineError, PeerUnavailable


class WitnessRefused(HotlineError):
    """The witness refused the checkpoint (its status and reason)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"refused ({status}): {reason.strip()[:300]}")
        self.status = status


class WitnessConflict(WitnessRefused):
    """The witness holds another size of the log than the submission said (409)."""

    def __init__(self, size: int) -> None:
        super().__init__(409, f"the witness holds size {size}")
        self.size = size


def submit(
    http: httpx.Client, url: str, old: int, proof: Sequence[bytes], note: str, timeout: float = 10
) -> str:
    """Submit ``note`` (a signed checkpoint) with the consistency proof from size ``old``;
    the witness's cosignature line(s). Raises WitnessConflict (with the size it holds),
    WitnessRefused, or PeerUnavailable when it cannot be reached."""
    body = f"old {old}\n" + "".join(base64.b64encode(h).decode() + "\n" for h in proof)
    body += "\n" + note
    try:
        answer = http.post(
            url.rstrip("/") + "/add-checkpoint",
            content=body.encode(),
            headers={"content-type": "text/plain; charset=utf-8"},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        raise PeerUnavailable(f"witness {url} unreachable: {exc}") from exc
    if answer.status_code == 409 and answer.headers.get("content-type", "").startswith(
        "text/x.tlog.size"
    ):
        text = answer.text.strip()
        if text.isdigit():
            raise WitnessConflict(int(text))
    if answer.status_code != 200:
        raise WitnessRefused(answer.status_code, answer.text)
    return answer.text
