"""A self-signed TLS certificate for the local services (there is no snakeoil
certificate on these machines, and we never want to touch /etc anyway)."""
import os
import subprocess

CERT_NAME = 'localhost.crt'
KEY_NAME = 'localhost.key'


def ensure_self_signed_cert(directory):
    """Return (cert_path, key_path) for CN=localhost, making them once.

    The certificate names both DNS:localhost and IP:127.0.0.1, so clients may
    verify it (with the certificate itself as CA file) whichever of the two
    they connect to.
    """
    os.makedirs(directory, exist_ok=True)
    cert_path = os.path.join(directory, CERT_NAME)
    key_path = os.path.join(directory, KEY_NAME)
    if os.path.exists(cert_path) and os.path.exists(key_path):
        return cert_path, key_path
    # Write to temporary names and rename, so a half-made pair (interrupted
    # run) is never mistaken for a usable one.
    tmp_cert, tmp_key = cert_path + '.tmp', key_path + '.tmp'
    subprocess.run(
        ['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256',
         '-days', '3650', '-subj', '/CN=localhost',
         '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
         '-addext', 'basicConstraints=critical,CA:TRUE',
         '-keyout', tmp_key, '-out', tmp_cert],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.chmod(tmp_key, 0o600)
    os.chmod(tmp_cert, 0o644)
    os.replace(tmp_key, key_path)
    os.replace(tmp_cert, cert_path)
    return cert_path, key_path
