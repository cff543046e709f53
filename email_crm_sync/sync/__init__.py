# The sync engine: drives lib/ (IMAP, MIME, plans) and stores through the ORM.
