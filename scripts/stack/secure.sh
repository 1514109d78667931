# scripts/stack/secure.sh - the --secure mode of scripts/stack.sh (sourced by it).
#
# One Kafka node with, instead of the plain listener:
#   SASL_SSL://127.0.0.1:KAFKA_PORT     SCRAM-SHA-512 (and PLAIN, see below), TLS server certificate
#   MTLS://127.0.0.1:KAFKA_PORT+2       SSL with ssl.client.auth=required (also inter-broker)
#   CONTROLLER://127.0.0.1:KAFKA_PORT+1 SSL with client certificates
# KRaft's StandardAuthorizer with the ACLs of scripts/stack/secure-acls.txt; User:admin and
# User:broker are the super users. A certificate's principal is its CN (User:NAME), the same
# name as the SCRAM user, so one ACL serves both modes.
#
# SCRAM users are created when the storage is formatted (--add-scram). Debian 12's
# librdkafka 2.0.2 cannot log in with SCRAM to Kafka 4.x (it repeats the client nonce in its
# final message, which Kafka 4 rejects; fixed in librdkafka 2.6.1), so the same listener also
# offers PLAIN (over TLS) with the same users and passwords, in the listener's JAAS config.
#
# Everything lives in $STATE/secure/ (mode 700): the CA, the broker's key store and trust
# store, one certificate and encrypted key per principal, and for every principal
# clients/NAME-sasl.properties (SASL_SSL, PLAIN), NAME-scram.properties (SASL_SSL,
# SCRAM-SHA-512: librdkafka >= 2.6.1, Java) and NAME-mtls.properties (libvtevents' -F form,
# kafka.* keys). Passwords are random per stack. doc/security.md describes it.

SECURE_ACLS=$HERE/secure-acls.txt
SECURE_DAYS=30

secure_dir() { echo "$STATE/secure"; }
mtls_port() { echo $((KAFKA_PORT + 2)); }
stack_secure() { [ -f "$STATE/secure-mode" ]; }

# The principals that get certificates and SCRAM users: admin, then every service of the ACLs.
secure_principals() {
  echo admin
  awk '!/^[[:space:]]*#/ && NF { print $1 }' "$SECURE_ACLS" | awk '!seen[$0]++'
}

# 24 characters of [A-Za-z0-9]: safe in properties files, JAAS and --add-scram arguments.
secure_password() {
  local p=
  while [ "${#p}" -lt 24 ]; do p+=$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9'); done
  printf '%s\n' "${p:0:24}"
}

# secure_leaf NAME EXTENSIONS [KEY-PASSWORD]: an EC P-256 key and a certificate signed by the
# CA; the key is encrypted (PKCS#8, AES-256) when a password is given.
secure_leaf() {
  local d name=$1 ext=$2 pw=${3:-}
  d=$(secure_dir)
  if [ -n "$pw" ]; then
    VTEV_PW=$pw openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
      -keyout "$d/$name.key" -passout env:VTEV_PW -subj "/CN=$name" -out "$d/$name.csr" 2>>"$d/openssl.log"
  else
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -keyout "$d/$name.key" -subj "/CN=$name" -out "$d/$name.csr" 2>>"$d/openssl.log"
  fi || die "openssl: cannot make the key of $name (see $d/openssl.log)"
  printf '%b' "$ext" >"$d/$name.ext"
  openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
    -set_serial "0x$(openssl rand -hex 12)" -days "$SECURE_DAYS" -extfile "$d/$name.ext" \
    -out "$d/$name.pem" 2>>"$d/openssl.log" || die "openssl: cannot sign the certificate of $name"
  rm -f "$d/$name.csr" "$d/$name.ext"
  chmod 600 "$d/$name.key"
}

# The CA, the broker's stores, a certificate per principal, the passwords.
secure_make_certs() {
  local d p pw
  d=$(secure_dir)
  command -v openssl >/dev/null || die "openssl not found (./run deps installs it)"
  command -v keytool >/dev/null || die "keytool not found (it comes with Java: ./run deps)"
  mkdir -p "$d/clients"
  chmod 700 "$d"
  umask 077
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$SECURE_DAYS" \
    -keyout "$d/ca.key" -out "$d/ca.pem" -subj "/CN=vtevents stack CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>>"$d/openssl.log" || die "openssl: cannot make the CA (see $d/openssl.log)"
  secure_password >"$d/store.password"
  secure_leaf broker "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n"
  VTEV_PW=$(cat "$d/store.password") openssl pkcs12 -export -in "$d/broker.pem" -inkey "$d/broker.key" \
    -certfile "$d/ca.pem" -name broker -out "$d/broker.p12" -passout env:VTEV_PW ||
    die "openssl: cannot write the broker's key store"
  VTEV_PW=$(cat "$d/store.password") keytool -importcert -noprompt -alias ca -file "$d/ca.pem" \
    -keystore "$d/truststore.p12" -storetype PKCS12 -storepass:env VTEV_PW >/dev/null 2>&1 ||
    die "keytool: cannot write the trust store"
  for p in $(secure_principals); do
    pw=$(secure_password)
    printf '%s\n' "$pw" >"$d/$p.key.password"
    secure_leaf "$p" "extendedKeyUsage=clientAuth\n" "$pw"
    secure_password >"$d/$p.sasl.password"
  done
  umask 022
}

# The listener part of a secure node's server.properties.
secure_kafka_listeners() { # controller-port
  local d pw
  d=$(secure_dir)
  pw=$(cat "$d/store.password")
  cat <<EOF
listeners=SASL_SSL://127.0.0.1:$KAFKA_PORT,MTLS://127.0.0.1:$(mtls_port),CONTROLLER://127.0.0.1:$1
advertised.listeners=SASL_SSL://127.0.0.1:$KAFKA_PORT,MTLS://127.0.0.1:$(mtls_port)
controller.listener.names=CONTROLLER
inter.broker.listener.name=MTLS
listener.security.protocol.map=SASL_SSL:SASL_SSL,MTLS:SSL,CONTROLLER:SSL
ssl.keystore.type=PKCS12
ssl.keystore.location=$d/broker.p12
ssl.keystore.password=$pw
ssl.key.password=$pw
ssl.truststore.type=PKCS12
ssl.truststore.location=$d/truststore.p12
ssl.truststore.password=$pw
ssl.client.auth=required
listener.name.sasl_ssl.ssl.client.auth=none
ssl.principal.mapping.rules=RULE:^CN=([^,]+)(,.*)?\$/\$1/,DEFAULT
sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required$(secure_plain_users);
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin;User:broker
allow.everyone.if.no.acl.found=false
EOF
}

# The PLAIN users of the JAAS config: user_NAME="PASSWORD" for every principal.
secure_plain_users() {
  local d p
  d=$(secure_dir)
  for p in $(secure_principals); do printf ' user_%s="%s"' "$p" "$(cat "$d/$p.sasl.password")"; done
}

# The --add-scram arguments of the format: every principal a SCRAM-SHA-512 user.
secure_scram_args() {
  local d p
  d=$(secure_dir)
  for p in $(secure_principals); do
    printf -- '--add-scram\nSCRAM-SHA-512=[name=%s,password=%s]\n' "$p" "$(cat "$d/$p.sasl.password")"
  done
}

# clients/NAME-sasl.properties and clients/NAME-mtls.properties for every principal.
secure_write_clients() {
  local d p f
  d=$(secure_dir)
  umask 077
  for p in $(secure_principals); do
    secure_sasl_file "$p" PLAIN "$d/clients/$p-sasl.properties"
    secure_sasl_file "$p" SCRAM-SHA-512 "$d/clients/$p-scram.properties"
    f=$d/clients/$p-mtls.properties
    cat >"$f" <<EOF
# User:$p over mTLS (certificate CN=$p); written by scripts/stack.sh up --secure (doc/security.md)
bootstrap.servers=127.0.0.1:$(mtls_port)
schema.registry.url=$(registry_url)
client.id=$p
kafka.security.protocol=SSL
kafka.ssl.ca.location=$d/ca.pem
kafka.ssl.certificate.location=$d/$p.pem
kafka.ssl.key.location=$d/$p.key
kafka.ssl.key.password=$(cat "$d/$p.key.password")
EOF
  done
  umask 022
}

secure_sasl_file() { # principal mechanism file
  local d
  d=$(secure_dir)
  cat >"$3" <<EOF
# User:$1 over SASL_SSL ($2); written by scripts/stack.sh up --secure (doc/security.md)
bootstrap.servers=127.0.0.1:$KAFKA_PORT
schema.registry.url=$(registry_url)
client.id=$1
kafka.security.protocol=SASL_SSL
kafka.sasl.mechanisms=$2
kafka.sasl.username=$1
kafka.sasl.password=$(cat "$d/$1.sasl.password")
kafka.ssl.ca.location=$d/ca.pem
EOF
}

secure_admin_conf() { echo "$(secure_dir)/clients/admin-sasl.properties"; }

# After the node answers: the ACLs, and the platform topics (created as admin, since no
# service may create topics) when the build has vt-topics.
secure_provision() {
  local vt=$BUILD/tools/vt-topics
  find_probe
  "$PROBE" -q -F "$(secure_admin_conf)" --create-acls "$SECURE_ACLS" ||
    die "creating the ACLs of $SECURE_ACLS failed"
  # the transactional-id lines (vt-stack-probe skips them: see secure_txn_acls.py)
  local py=${VTEV_PYTHON:-$ROOT/.venv/bin/python}
  if [ -x "$py" ] && "$py" -c 'import confluent_kafka' 2>/dev/null; then
    "$py" "$HERE/secure_txn_acls.py" "$(secure_admin_conf)" "$SECURE_ACLS" ||
      die "creating the transactional-id ACLs of $SECURE_ACLS failed"
  else
    log "no Python peer ($py; ./run pydeps): the transactional-id ACLs of $SECURE_ACLS are not" \
      "created, and prediction-worker --exactly-once fails with TRANSACTIONAL_ID_AUTHORIZATION_FAILED"
  fi
  if [ -x "$vt" ]; then
    "$vt" -q -F "$(secure_admin_conf)" create >"$STATE/secure/topics.log" 2>&1 ||
      { cat "$STATE/secure/topics.log" >&2; die "vt-topics create (as User:admin) failed"; }
  else
    log "no $vt: create the platform topics as User:admin (doc/security.md)"
  fi
}

# NAME -> VTEV_SECURE_CONF_NAME_MODE (upper case, - and . as _)
secure_env_var() { printf 'VTEV_SECURE_CONF_%s_%s' "$(echo "$1" | tr 'a-z.-' 'A-Z__')" "$2"; }

secure_write_env() { # file
  local d p
  d=$(secure_dir)
  {
    echo "VTEV_SECURE_SASL_BOOTSTRAP=127.0.0.1:$KAFKA_PORT"
    echo "VTEV_SECURE_MTLS_BOOTSTRAP=127.0.0.1:$(mtls_port)"
    echo "VTEV_SECURE_DIR=$d"
    echo "VTEV_SECURE_CA=$d/ca.pem"
    for p in $(secure_principals); do
      echo "$(secure_env_var "$p" SASL)=$d/clients/$p-sasl.properties"
      echo "$(secure_env_var "$p" SCRAM)=$d/clients/$p-scram.properties"
      echo "$(secure_env_var "$p" MTLS)=$d/clients/$p-mtls.properties"
    done
  } >>"$1"
}
