"""An SMTP server for the mail transport test, independent of our code: aiosmtpd, which
requires STARTTLS before AUTH and AUTH before MAIL, with a certificate for 127.0.0.1 issued by a
throwaway CA (trustme). Arguments: the file to write the CA certificate (PEM) into, the login,
the password. Prints the port it listens on, then one JSON line per message it accepts."""
import asyncio
import json
import logging
import ssl
import sys

import trustme
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

# aiosmtpd warns about its own use of a deprecated field on every AUTH; errors still show.
logging.getLogger("mail.log").setLevel(logging.ERROR)
ca_file, login, password = sys.argv[1:4]
ca = trustme.CA()
ca.cert_pem.write_to_path(ca_file)
tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ca.issue_cert("127.0.0.1").configure_cert(tls)


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == login.encode()
        and auth_data.password == password.encode()
    )
    # handled=False: aiosmtpd answers a refusal with 535 itself.
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


class Record:
    async def handle_DATA(self, server, session, envelope):
        print(json.dumps({
            "login": session.auth_data.login.decode(),
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": envelope.content.decode("utf-8", "replace"),
        }), flush=True)
        return "250 OK"


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            Record(),
            hostname="fake-smtp.test",
            tls_context=tls,
            require_starttls=True,
            auth_required=True,
            auth_require_tls=True,
            authenticator=authenticate,
        ),
        "127.0.0.1",
        0,
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


asyncio.run(main())
