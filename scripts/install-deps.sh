#!/bin/sh
# install-deps.sh installs the system packages the gateway's tests and dev
# server need, only when they are missing. It runs on Debian (apt-get) as root
# or through sudo.
#
#   scripts/install-deps.sh ejabberd          the XMPP server (make dev, make test)
#   scripts/install-deps.sh ejabberd chromium also the browser for browser tests
#   scripts/install-deps.sh postgresql        PostgreSQL's server programs (initdb, postgres)
#                                             for the store's tests (internal/pgtest starts its own)
#   scripts/install-deps.sh nats              nats-server with JetStream (multi-node tests)
#   scripts/install-deps.sh node              Node.js and npm: the browser tests install
#                                             axe-core with npm ci (internal/browsertest/axe)
#   scripts/install-deps.sh prosody           Prosody 0.12 and its community modules (for
#                                             XEP-0357), the second XMPP server of the tests
#                                             (internal/prosody runs its own; the package's
#                                             service is never started)
set -eu

need=""
for what in "$@"; do
	case "$what" in
	ejabberd)
		# erlang-p1-oauth2: oauth_issue_token and X-OAUTH2 logins.
		# erlang-p1-sqlite3: MAM stored in SQLite (the Mnesia backend slows down).
		for pkg in ejabberd erlang-p1-oauth2 erlang-p1-sqlite3; do
			dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need="$need $pkg"
		done
		;;
	chromium)
		[ -x /usr/bin/chromium ] || need="$need chromium"
		;;
	postgresql)
		# The tests run initdb and postgres themselves, in a temporary
		# directory on a free port; Debian's own cluster is never used.
		ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$need postgresql"
		;;
	nats)
		# Debian's nats-server (2.9): JetStream, per-subject limits, direct get.
		[ -x /usr/sbin/nats-server ] || need="$need nats-server"
		;;
	prosody)
		command -v prosody >/dev/null 2>&1 || need="$need prosody"
		# prosody-modules: mod_cloud_notify, Prosody's XEP-0357, for the
		# gateway's push component.
		[ -f /usr/lib/prosody/modules/mod_cloud_notify/mod_cloud_notify.lua ] || need="$need prosody-modules"
		;;
	node)
		# Debian's nodejs and npm, only when no node is on the PATH.
		command -v node >/dev/null 2>&1 || need="$need nodejs"
		command -v npm >/dev/null 2>&1 || need="$need npm"
		;;
	*)
		echo "install-deps: unknown component $what" >&2
		exit 2
		;;
	esac
done

[ -z "$need" ] && exit 0

sudo=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo to install:$need" >&2; exit 1; }
	sudo=sudo
fi
echo "install-deps: installing$need"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $need
