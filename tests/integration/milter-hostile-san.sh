#!/bin/sh
# milter-hostile-san.sh - the hostile-MTA test against rampart-milter built
# with sanitizers: a memory error the plain build survives by luck shows here.
here=$(cd "$(dirname "$0")" && pwd)
RAMPART_MILTER=${RAMPART_MILTER:-$here/../../milter/rampart-milter}${RAMPART_SAN_SUFFIX:--san}
export RAMPART_MILTER
exec "$here/milter-hostile.sh"
