#!/usr/bin/env bash
# Deploy a new mypack release into a deploy root, stopping at the first failure.
#
#   deploy/deploy.sh [--reload touch|hup] DEPLOY_ROOT PACKAGE
#
# PACKAGE is anything pip installs: a wheel, an sdist, a source folder, "mypack==1.2".
# DEPLOY_ROOT holds start.wsgi, instance/ and venv/ (see README, "Deploy under ...").
#
# Steps: 1. install the release into a staging venv beside the live one;
#        2. migrate the database (mypack db upgrade, from the release);
#        3. mypack check --deploy (from the release, as the service user);
#        4. install the release into the live venv;
#        5. reload: touch start.wsgi (mod_wsgi, and gunicorn through mypack-reload.path)
#           or, with --reload hup, send HUP to gunicorn's master.
# Until step 4 the live venv is untouched, so a failure leaves the running version
# serving. Migrations must keep the running version working (add before you drop).
set -euo pipefail

# All in a function: bash reads it whole before running, so installing a release
# that replaces this very file (venv/share/mypack/deploy.sh) cannot derail it.
main() {
  reload=touch
  if [ "${1:-}" = "--reload" ]; then reload=$2; shift 2; fi
  if [ $# -ne 2 ] || [[ "$reload" != touch && "$reload" != hup ]]; then
    sed -n '2,15p' "$0" >&2
    exit 2
  fi
  root=$(realpath "$1")
  package=$2
  venv="$root/venv"
  instance="$root/instance"

  step() { echo "deploy: $*"; }
  fail() { echo "deploy: FAILED: $*; the running version keeps serving" >&2; exit 1; }

  [ -x "$venv/bin/python" ] || fail "no venv at $venv"
  [ -d "$instance" ] || fail "no instance folder at $instance"
  # The instance folder's owner is the service user: the app's files stay theirs.
  user=$(stat -c %U "$instance")
  group=$(stat -c %G "$instance")
  as_service() { setpriv --reuid="$user" --regid="$group" --clear-groups "$@"; }
  # The Python the live venv was made from (Debian's, readable by the service user).
  python=$("$venv/bin/python" -c 'import sys; print(sys._base_executable)')

  staging=$(mktemp -d "$root/.staging-XXXXXX")
  chmod 755 "$staging"
  trap 'rm -rf "$staging"' EXIT

  step "1/5 installing $package into a staging venv"
  "$python" -m venv "$staging/venv" || fail "cannot create a venv with $python"
  "$staging/venv/bin/python" -m pip install -q "$package" || fail "pip could not install $package"
  release=$("$staging/venv/bin/python" -c 'import mypack; print(mypack.__version__)')

  step "2/5 migrating the database for mypack $release"
  as_service "$staging/venv/bin/mypack" --instance "$instance" db upgrade \
    || fail "mypack db upgrade"

  step "3/5 mypack check --deploy"
  as_service "$staging/venv/bin/mypack" --instance "$instance" check --deploy \
    || fail "mypack check --deploy found errors"

  step "4/5 installing mypack $release into $venv"
  "$venv/bin/python" -m pip install -q "$package" \
    || fail "pip could not install into $venv (nothing was reloaded; check the venv)"

  step "5/5 reloading ($reload)"
  if [ "$reload" = touch ]; then
    touch "$root/start.wsgi"
  else
    kill -s HUP "$(cat "$root/run/gunicorn.pid")" || fail "no gunicorn master to reload"
  fi
  step "mypack $release deployed"
}

main "$@"
