"""A real SMTP server (Debian's python3-aiosmtpd) on 127.0.0.1:PORT that
offers STARTTLS with CERT/KEY, or no STARTTLS at all with --no-starttls.
Mail is accepted and dropped.  Prints nothing; its pid is the server's.

usage: starttls-smtpd.py PORT CERT KEY [--no-starttls]
"""
import asyncio
import ssl
import sys

from aiosmtpd.handlers import Sink
from aiosmtpd.smtp import SMTP

port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = None
if "--no-starttls" not in sys.argv[4:]:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    # The files are read once, at start: a new certificate needs a restart,
    # as with most mail servers' listeners.
    ctx.load_cert_chain(cert, key)
loop = asyncio.new_event_loop()
loop.run_until_complete(loop.create_server(
    lambda: SMTP(Sink(), hostname="mail.test", tls_context=ctx),
    "127.0.0.1", port))
loop.run_forever()
