#!/usr/bin/env python3
"""Makes certificates GnuTLS refuses but OpenSSL reads (issue 13 item 5).

usage: mkoddcert.py KIND KEY.pem OUT.der
KIND: dupext, emptydns, x400, edi, md5v1, year1, badutf8
The TBSCertificate is built here, byte by byte; `openssl dgst -sign`
signs it, so the signature is real.  No pip packages.
"""
import subprocess
import sys


def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        ln = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        ln = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + ln + body


def seq(*parts):
    return tlv(0x30, b"".join(parts))


def oid(dotted):
    a = [int(x) for x in dotted.split(".")]
    out = bytes([40 * a[0] + a[1]])
    for v in a[2:]:
        chunk = [v & 0x7f]
        v >>= 7
        while v:
            chunk.append(0x80 | (v & 0x7f))
            v >>= 7
        out += bytes(reversed(chunk))
    return tlv(0x06, out)


def name(cn, tag=0x0c):
    return seq(tlv(0x31, seq(oid("2.5.4.3"), tlv(tag, cn))))


def ext(o, value, critical=False):
    crit = tlv(0x01, b"\xff") if critical else b""
    return seq(oid(o), crit, tlv(0x04, value))


def spki(key):
    return subprocess.run(["openssl", "pkey", "-in", key, "-pubout",
                           "-outform", "DER"], check=True,
                          capture_output=True).stdout


def main():
    kind, key, out = sys.argv[1:4]
    md = "md5" if kind == "md5v1" else "sha256"
    sigalg = seq(oid("1.2.840.113549.1.1.4" if md == "md5" else
                     "1.2.840.113549.1.1.11"), tlv(0x05, b""))
    nb = tlv(0x17, b"250101000000Z")
    na = tlv(0x17, b"491231235959Z")
    if kind == "year1":
        na = tlv(0x18, b"00010101000000Z")
    cn = b"odd-" + kind.encode()
    subject = name(cn)
    if kind == "badutf8":
        subject = name(b"bad\xff\xfeutf8")
    exts = []
    if kind == "dupext":
        bc = seq()
        exts = [ext("2.5.29.19", bc, True), ext("2.5.29.19", bc, True)]
    elif kind == "emptydns":
        exts = [ext("2.5.29.17", seq(tlv(0x82, b"")))]
    elif kind == "x400":
        exts = [ext("2.5.29.17", seq(tlv(0xa3, seq()),
                                      tlv(0x82, b"x400.example")))]
    elif kind == "edi":
        exts = [ext("2.5.29.17", seq(tlv(0xa5, tlv(0xa1, tlv(0x0c, b"ab"))),
                                      tlv(0x82, b"edi.example")))]
    version = b"" if kind == "md5v1" else tlv(0xa0, tlv(0x02, b"\x02"))
    tbs = seq(version, tlv(0x02, b"\x01\x23\x45"), sigalg,
              name(b"odd issuer"), seq(nb, na), subject, spki(key),
              tlv(0xa3, seq(*exts)) if exts else b"")
    sig = subprocess.run(["openssl", "dgst", "-" + md, "-sign", key],
                         input=tbs, check=True, capture_output=True).stdout
    with open(out, "wb") as f:
        f.write(seq(tbs, sigalg, tlv(0x03, b"\x00" + sig)))


main()
