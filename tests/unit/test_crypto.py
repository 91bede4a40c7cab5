"""Ed25519 through hotline.domain.crypto, against the RFC 8032 section 7.1 test vectors.

Each vector's seed must give its public key, signing its message must give its
signature byte for byte, and verification must accept that signature and refuse any
change to message or signature. Also: the base64url encoding used on the record, and
key ids (the first 16 hex characters of SHA-256 of the public key).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest

from hotline.domain.crypto import PublicKey, SigningKey, b64decode, b64encode
from hotline.domain.errors import InvalidInput


@dataclass(frozen=True)
class Vector:
    name: str
    secret: str
    public: str
    message: str
    signature: str


# RFC 8032, section 7.1 "Test Vectors for Ed25519", TEST 1024: a 1023-byte message.
_MESSAGE_1024 = (
    "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98"
    "fa6e264bf09efe12ee50f8f54e9f77b1e355f6c50544e23fb1433ddf73be84d8"
    "79de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d"
    "658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc"
    "1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82d522c4fe"
    "ba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e"
    "06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbef"
    "efd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7"
    "aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1"
    "85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2"
    "d17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc24"
    "554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270"
    "88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc"
    "2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2cf65bd92dd597b07"
    "07e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba"
    "b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51a"
    "ddd3b75a2b1ae0784504df543af8969be3ea7082ff7fc9888c144da2af58429e"
    "c96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7"
    "51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c"
    "42f58c30c04aafdb038dda0847dd988dcda6f3bfd15c4b4c4525004aa06eeff8"
    "ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df"
    "f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08"
    "d78ff4ef5d63653a65040cf9bfd4aca7984a74d37145986780fc0b16ac451649"
    "de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4"
    "88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a3"
    "2ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e"
    "6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f"
    "b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b5"
    "0d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef1"
    "369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d"
    "b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c"
    "0618983f8741c5ef68d3a101e8a3b8cac60c905c15fc910840b94c00a0b9d0"
)

VECTORS = [
    Vector(
        name="TEST 1",
        secret="9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        public="d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        message="",
        signature=(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
            "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        ),
    ),
    Vector(
        name="TEST 2",
        secret="4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        public="3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        message="72",
        signature=(
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da0"
            "85ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
        ),
    ),
    Vector(
        name="TEST 3",
        secret="c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        public="fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        message="af82",
        signature=(
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac1"
            "8ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"
        ),
    ),
    Vector(
        name="TEST 1024",
        secret="f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
        public="278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
        message=_MESSAGE_1024,
        signature=(
            "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350a"
            "a5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03"
        ),
    ),
]


def _flip(data: bytes, index: int) -> bytes:
    """``data`` with the lowest bit of byte ``index`` flipped."""
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


def test_the_long_message_is_the_rfc_one() -> None:
    """Guards against a typing slip in the 1023-byte message of TEST 1024."""
    assert len(bytes.fromhex(_MESSAGE_1024)) == 1023


@pytest.fixture(params=VECTORS, ids=lambda v: v.name)
def vector(request: pytest.FixtureRequest) -> Vector:
    value: Vector = request.param
    return value


def test_seed_gives_the_public_key(vector: Vector) -> None:
    key = SigningKey(bytes.fromhex(vector.secret))
    assert key.public.raw == bytes.fromhex(vector.public)
    assert key.public == PublicKey(bytes.fromhex(vector.public))
    assert key.seed() == bytes.fromhex(vector.secret)


def test_signing_gives_the_signature(vector: Vector) -> None:
    key = SigningKey(bytes.fromhex(vector.secret))
    assert key.sign(bytes.fromhex(vector.message)) == bytes.fromhex(vector.signature)


def test_verify_accepts_the_signature(vector: Vector) -> None:
    public = PublicKey(bytes.fromhex(vector.public))
    assert public.verify(bytes.fromhex(vector.message), bytes.fromhex(vector.signature))


def test_verify_refuses_a_flipped_bit_in_the_message(vector: Vector) -> None:
    public = PublicKey(bytes.fromhex(vector.public))
    message = bytes.fromhex(vector.message)
    signature = bytes.fromhex(vector.signature)
    if message:
        assert not public.verify(_flip(message, 0), signature)
        assert not public.verify(_flip(message, len(message) - 1), signature)
    assert not public.verify(message + b"\x00", signature)


@pytest.mark.parametrize("index", [0, 31, 32, 63])
def test_verify_refuses_a_flipped_bit_in_the_signature(vector: Vector, index: int) -> None:
    public = PublicKey(bytes.fromhex(vector.public))
    signature = _flip(bytes.fromhex(vector.signature), index)
    assert not public.verify(bytes.fromhex(vector.message), signature)


def test_verify_refuses_another_keys_signature() -> None:
    first, second = VECTORS[1], VECTORS[2]
    public = PublicKey(bytes.fromhex(second.public))
    signature = SigningKey(bytes.fromhex(first.secret)).sign(bytes.fromhex(second.message))
    assert not public.verify(bytes.fromhex(second.message), signature)


@pytest.mark.parametrize("length", [0, 1, 63, 65, 128])
def test_a_signature_of_the_wrong_length_is_false(length: int) -> None:
    vector = VECTORS[1]
    public = PublicKey(bytes.fromhex(vector.public))
    signature = (bytes.fromhex(vector.signature) * 2)[:length]
    assert public.verify(bytes.fromhex(vector.message), signature) is False


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_a_seed_of_the_wrong_length_is_invalid(length: int) -> None:
    with pytest.raises(InvalidInput, match="32 bytes"):
        SigningKey(bytes(length))


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_a_public_key_of_the_wrong_length_is_invalid(length: int) -> None:
    with pytest.raises(InvalidInput, match="32 bytes") as caught:
        PublicKey(bytes(length))
    assert caught.value.field == "public key"


def test_key_id_is_the_first_16_hex_of_sha256_of_the_public_key(vector: Vector) -> None:
    raw = bytes.fromhex(vector.public)
    key = PublicKey(raw)
    assert key.key_id == hashlib.sha256(raw).hexdigest()[:16]
    assert len(key.key_id) == 16
    assert SigningKey(bytes.fromhex(vector.secret)).public.key_id == key.key_id


def test_key_id_of_test_1_by_hand() -> None:
    key = PublicKey(bytes.fromhex(VECTORS[0].public))
    assert key.key_id == "21fe31dfa154a261"
    assert repr(key) == "PublicKey(21fe31dfa154a261)"


def test_public_key_text_round_trip(vector: Vector) -> None:
    key = PublicKey(bytes.fromhex(vector.public))
    text = key.text()
    assert "=" not in text
    assert len(text) == 43
    assert PublicKey.from_text(text) == key
    assert PublicKey.from_text(f"  {text}\n") == key
    assert hash(PublicKey.from_text(text)) == hash(key)


def test_public_key_from_bad_text_is_invalid() -> None:
    with pytest.raises(InvalidInput) as caught:
        PublicKey.from_text("not base64!")
    assert caught.value.field == "public key"


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00", b"\xff\xfe", b"abc", b"\xfb\xff\xbf", bytes(range(256))],
    ids=["empty", "one", "two", "three", "url-alphabet", "all-bytes"],
)
def test_b64_round_trip(data: bytes) -> None:
    text = b64encode(data)
    assert "=" not in text
    assert "+" not in text
    assert "/" not in text
    assert b64decode(text) == data


def test_b64encode_is_unpadded_base64url() -> None:
    assert b64encode(b"\xfb\xff\xbf") == "-_-_"
    assert b64encode(b"\xff") == "_w"
    assert b64encode(b"hotline") == "aG90bGluZQ"


def test_b64decode_accepts_padding() -> None:
    assert b64decode("_w==") == b"\xff"
    assert b64decode("aG90bGluZQ==") == b"hotline"


@pytest.mark.parametrize(
    "text",
    ["a", "ab$c", "aG90 bGluZQ", "é", "aG90bGluZQ==="],
    ids=["one-char", "symbol", "space", "non-ascii", "over-padded"],
)
def test_bad_base64_is_invalid(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        b64decode(text, field="signature")
    assert caught.value.field == "signature"
    assert str(caught.value).startswith("signature: not valid base64url")


@pytest.mark.parametrize("text", ["+/+/", "aG90bGluZQ+/"])
def test_standard_alphabet_base64_is_invalid(text: str) -> None:
    with pytest.raises(InvalidInput):
        b64decode(text)


@pytest.mark.parametrize("text", ["_x", "__"])
def test_base64_with_non_zero_trailing_bits_is_invalid(text: str) -> None:
    with pytest.raises(InvalidInput):
        b64decode(text)
