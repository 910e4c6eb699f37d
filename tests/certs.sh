# certs.sh: shell functions that make test certificates with the openssl
# command, in the current directory. The check suites that need
# certificates source it from a script they run with sh -e in a temporary
# directory (itest_certs_make, tests/itest.h); by hand:
#
#	mkdir /tmp/c && cd /tmp/c && . /path/to/tests/certs.sh &&
#	    ca ca '/CN=test CA' && leaf a /CN=a.test DNS:a.test 30 ca
#
# Every key is a fresh P-256 key; nothing made here is ever committed.

# ec NAME: a P-256 private key in the file NAME.
ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$1"; }

# ca NAME SUBJECT [ISSUER]: a CA certificate NAME.pem and its key NAME.key,
# valid 30 days; self-signed, or signed by ISSUER (an intermediate).
ca() {
	ec "$1.key"
	openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
	printf '%s\n' 'basicConstraints=critical,CA:true' \
	    'keyUsage=critical,keyCertSign,cRLSign' > "$1.ext"
	if [ -z "$3" ]; then set -- "$1" "$2" -key "$1.key";
	else set -- "$1" "$2" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial; fi
	n=$1; shift 2
	openssl x509 -req -in "$n.csr" "$@" -days 30 -extfile "$n.ext" \
	    -out "$n.pem"
}

# leaf NAME SUBJECT SAN DAYS ISSUER [EKU]: a certificate NAME.pem and its
# key NAME.key, signed by ISSUER, valid DAYS days, with subjectAltName SAN
# (none when empty) and extendedKeyUsage EKU (default serverAuth).
leaf() {
	ec "$1.key"
	openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
	: > "$1.ext"
	[ -z "$3" ] || echo "subjectAltName=$3" >> "$1.ext"
	echo "extendedKeyUsage=${6:-serverAuth}" >> "$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$5.pem" -CAkey "$5.key" \
	    -CAcreateserial -days "$4" -extfile "$1.ext" -out "$1.pem"
}

# dated NAME START END: a certificate NAME.pem for NAME.test with explicit
# validity dates (YYYYMMDDHHMMSSZ), signed by ca (openssl ca takes them).
dated() {
	ec "$1.key"
	openssl req -new -key "$1.key" -subj "/CN=$1.test" -out "$1.csr"
	rm -rf db; mkdir db; : > db/index.txt
	echo 01 > db/serial
	printf '%s\n' '[ca]' 'default_ca = t' '[t]' 'database = db/index.txt' \
	    'serial = db/serial' 'new_certs_dir = db' 'certificate = ca.pem' \
	    'private_key = ca.key' 'default_md = sha256' 'policy = p' \
	    'unique_subject = no' 'x509_extensions = x' '[p]' \
	    'commonName = supplied' '[x]' "subjectAltName = DNS:$1.test" \
	    > ca.cnf
	openssl ca -batch -config ca.cnf -startdate "$2" -enddate "$3" \
	    -notext -in "$1.csr" -out "$1.pem"
}
