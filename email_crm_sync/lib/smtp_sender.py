"""Sending one message through the mailbox's own SMTP server.

Same security choices and certificate pinning as IMAP (``imap_session``);
every failure comes out as a ``connection_errors.ConnectionProblem`` in plain
words, so the composer can keep the draft and say why.
"""
import smtplib
import ssl

from . import connection_errors
from .imap_session import SSL, STARTTLS, certificate_fingerprint, normalise_fingerprint
from .oauth_flow import xoauth2

REFUSED_RECIPIENTS = 'recipients_refused'
TOO_LARGE = 'too_large'


def _context(pinned):
    context = ssl.create_default_context()
    if pinned:
        # Checked against the trusted fingerprint after the handshake instead.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _pins(settings):
    return {normalise_fingerprint(p) for p in (settings.trusted_fingerprint or '').replace(',', ' ').split()}


def _check_pin(smtp, settings):
    pins = _pins(settings)
    if not pins:
        return
    seen = certificate_fingerprint(smtp.sock.getpeercert(binary_form=True))
    if seen not in pins:
        raise connection_errors.ConnectionProblem(
            connection_errors.CERTIFICATE,
            'The security certificate of the SMTP server %s is not the one you trusted. If your '
            'administrator confirms the fingerprint below, add it to the mailbox (Security tab).'
            % settings.host, fingerprint=seen)


def send(settings, sender, recipients, message):
    """Send ``message`` (bytes) from ``sender`` to exactly ``recipients``.

    Returns {address: (code, reason)} of recipients the server refused while
    accepting others; raises ConnectionProblem when nothing was sent.
    """
    try:
        context = _context(bool(_pins(settings)))
        if settings.security == SSL:
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                    context=context)
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        try:
            smtp.ehlo()
            if settings.security == STARTTLS:
                if not smtp.has_extn('starttls'):
                    raise connection_errors.ConnectionProblem(
                        connection_errors.STARTTLS_UNSUPPORTED,
                        'The SMTP server %s does not offer STARTTLS on port %s. Choose SSL/TLS '
                        '(usually port 465).' % (settings.host, settings.port))
                smtp.starttls(context=context)
                smtp.ehlo()
            if settings.security in (SSL, STARTTLS):
                _check_pin(smtp, settings)
            if settings.oauth2_token:
                _xoauth2_login(smtp, settings)
            elif settings.password and smtp.has_extn('auth'):
                smtp.login(settings.login, settings.password)
            return smtp.sendmail(sender, list(recipients), message)
        finally:
            try:
                smtp.quit()
            except Exception:
                smtp.close()
    except Exception as error:
        raise _explain(error, settings) from None


def _xoauth2_login(smtp, settings):
    """SASL XOAUTH2: the token in the first line. A refused token gets a 334
    with the reason, which the client answers with an empty line to end in
    535 (smtplib then raises SMTPAuthenticationError)."""
    initial = xoauth2(settings.login, settings.oauth2_token)
    smtp.auth('XOAUTH2', lambda challenge=None: initial if challenge is None else '',
              initial_response_ok=True)


def _explain(error, settings):
    if isinstance(error, connection_errors.ConnectionProblem):
        return error
    host = settings.host
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return connection_errors.ConnectionProblem(
            connection_errors.AUTH_FAILED,
            'The SMTP server %s refused the login or the password. Check them in the mailbox; '
            'with two-step verification, use an app password.' % host)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        refused = ', '.join(sorted(error.recipients))
        return connection_errors.ConnectionProblem(
            REFUSED_RECIPIENTS, 'The SMTP server %s refused every recipient (%s). Check the '
            'addresses.' % (host, refused))
    if isinstance(error, smtplib.SMTPSenderRefused):
        return connection_errors.ConnectionProblem(
            connection_errors.PROTOCOL, 'The SMTP server %s does not accept mail from %s: %s'
            % (host, error.sender, _reason(error)))
    if isinstance(error, smtplib.SMTPDataError) and error.smtp_code == 552:
        return connection_errors.ConnectionProblem(
            TOO_LARGE, 'The SMTP server %s says the message is too large: %s' % (host, _reason(error)))
    if isinstance(error, smtplib.SMTPResponseException):
        return connection_errors.ConnectionProblem(
            connection_errors.PROTOCOL, 'The SMTP server %s did not accept the message: %s'
            % (host, _reason(error)))
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return connection_errors.ConnectionProblem(
            connection_errors.DROPPED, 'The SMTP server %s closed the connection. Check the '
            'security setting (SSL/TLS versus STARTTLS) or try again later.' % host)
    problem = connection_errors.explain(error, host, settings.port, settings.timeout, settings.security)
    return connection_errors.ConnectionProblem(
        problem.code, problem.message.replace('(IMAP uses 993 with SSL/TLS, 143 with STARTTLS)',
                                              '(SMTP uses 465 with SSL/TLS, 587 with STARTTLS)')
        .replace('IMAP server', 'SMTP server'), problem.fingerprint)


def _reason(error):
    text = getattr(error, 'smtp_error', b'') or b''
    if isinstance(text, bytes):
        text = text.decode('utf-8', 'replace')
    return '%s %s' % (getattr(error, 'smtp_code', ''), text)


