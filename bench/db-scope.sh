#!/usr/bin/env bash
# bench/db-scope.sh - container gate queues per database vs one per vhost (see
# bench/db_scope.py): a hot container's flood against a cold container's
# listings, and listings spread over 16 containers.
#   e.g. DURATION=5s bench/db-scope.sh --scopes db,vhost
exec "$(dirname "$0")/gates.sh" db-scope "$@"
