"""EU Digital COVID Certificates (hcert schema 1.3) for vaccinations, made and verified here.

    payload.py   the hcert payload and the CWT claims around it (pure: no keys, no I/O)
    names.py     a Vietnamese name as fn/gn and their ICAO 9303 forms fnt/gnt
    signer.py    the document signer: its key, certificate and kid; COSE_Sign1 ES256
    hc1.py       COSE bytes <-> "HC1:" + Base45(zlib(...)), and the QR code (segno)
    verify.py    an HC1 text -> valid or invalid, why, and what it holds
    keyfiles.py  `callengine certificates keygen`: a key pair and a self-signed certificate
    service.py   a person's certificate from the database (their latest dose)
"""
