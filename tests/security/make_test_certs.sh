#!/usr/bin/env bash
# Writes a throw-away PKI for the TLS tests into DIR (created if missing):
#   ca.pem / ca.key          a self-signed CA
#   server.pem / server.key  a server certificate signed by it, for the names
#                            localhost and 127.0.0.1
#   client.pem / client.key  a client certificate signed by it
#   other_ca.pem             a second CA that signed nothing here
# Keys are RSA 2048, certificates valid for 2 days. Needs the openssl CLI.
set -euo pipefail
dir=${1:?usage: make_test_certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
cat > ext.cnf <<'CNF'
[server]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityKeyIdentifier = keyid
[client]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
CNF
make_ca() {  # name subject
  openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 2 \
    -keyout "$1.key" -out "$1.pem" -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
make_leaf() {  # name subject extensions-section
  openssl req -new -newkey rsa:2048 -nodes -sha256 \
    -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
    -sha256 -days 2 -out "$1.pem" -extfile ext.cnf -extensions "$3" 2>/dev/null
  rm -f "$1.csr"
}
make_ca ca "/CN=nnft test CA"
make_ca other_ca "/CN=nnft other CA"
make_leaf server "/CN=localhost" server
make_leaf client "/CN=nnft test client" client
chmod 600 ./*.key
