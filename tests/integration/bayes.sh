#!/bin/bash
#
# NAME
#	bayes.sh - learning with rampartctl, classifying in rampart-milter
# DESCRIPTION
#	Against a private redis-server: rampartctl learns spam from an mbox
#	file and ham from a Maildir, reports what it did (new, already
#	learned, moved, forgotten), shows the statistics, and refuses bad
#	usage, missing paths and a dead Redis with the documented exit
#	statuses. Then rampart-milter, driven by milterclient.py in the MTA's
#	place, gives RAMPART_BAYES_SPAM to an unseen spam-like message and
#	RAMPART_BAYES_HAM to an unseen ham-like one, and nothing while too few
#	messages were learned.
set -eu

. "$(dirname "$0")/lib.sh"

for tool in python3 redis-server redis-cli; do
	command -v "$tool" >/dev/null 2>&1 ||
		rt_skip "$tool not installed (see scripts/install-deps)"
done
rt_find_binaries
rt_init

RT_REDIS_PORT=$(rt_free_port)
RT_MILTER_PORT=$(rt_free_port)
rt_start_redis "$RT_REDIS_PORT" || rt_hard_error "cannot start redis-server"

conf="$RT_DIR/rampart.conf"
rt_write_config "$conf"
cat >>"$conf" <<EOF

[bayes]
enabled = true
min_spam = ${RT_BAYES_MIN:-6}
min_ham = ${RT_BAYES_MIN:-6}
EOF
RT_MILTER_CONF=$conf

spam_words="viagra casino lottery winner jackpot pills discount offer cheap prize bonus unsubscribe"
ham_words="meeting agenda project schedule review minutes release branch patch colleague thanks tomorrow"

# message ID WORDS...: a short message whose body is WORDS in some order.
message() {
	local id=$1
	shift
	printf 'From: sender%s@example.org\nTo: rcpt@example.net\n' "$id"
	printf 'Subject: note %s\nMessage-ID: <%s@test.example>\n\n' "$id" "$id"
	printf '%s\n' "$*" | tr ' ' '\n' | awk -v s="$id" 'BEGIN { srand(s) } { print rand() "\t" $0 }' |
		sort | cut -f2 | tr '\n' ' '
	printf '\n'
}

# Spam in one mbox file (with a body line that needs mboxrd unquoting), ham
# in a Maildir.
mbox="$RT_DIR/spam.mbox"
: >"$mbox"
for i in 1 2 3 4 5 6; do
	printf 'From spammer@example.org Thu Dec  3 10:00:0%s 2026\n' "$i" >>"$mbox"
	message "s$i" $spam_words >>"$mbox"
	printf '>From the desk of the winner\n\n' >>"$mbox"
done
maildir="$RT_DIR/Maildir"
mkdir -p "$maildir/cur" "$maildir/new" "$maildir/tmp"
for i in 1 2 3 4 5 6; do
	message "h$i" $ham_words >"$maildir/cur/$i.host:2,S"
done
message extra $spam_words >"$RT_DIR/extra-spam.eml"

out="$RT_DIR/ctl.out"
# ctl_expect NAME STATUS TEXT ARG...: rampartctl ARG... exits STATUS and
# prints TEXT (standard output and error together).
ctl_expect() {
	local name=$1 want=$2 text=$3 rc=0
	shift 3
	rt_ctl "$@" >"$out" 2>&1 || rc=$?
	if [ "$rc" = "$want" ] && grep -qF -- "$text" "$out"; then
		rt_log "ok: $name"
	else
		rt_fail "$name: exit $rc (wanted $want), output:"
		sed 's/^/    /' "$out"
	fi
}

ctl_expect "learn spam from an mbox" 0 "learned 6 messages as spam: 6 new, 0 moved from ham, 0 already learned" \
	learn --spam "$mbox"
ctl_expect "learn ham from a Maildir" 0 "learned 6 messages as ham: 6 new" learn --ham "$maildir"
ctl_expect "learning again changes nothing" 0 "0 new, 0 moved from spam, 6 already learned" learn --ham "$maildir"
ctl_expect "stats count the messages" 0 "messages learned: spam=6 ham=6" bayes stats
ctl_expect "stats measure bytes per token" 0 "bytes per token:" bayes stats

# The milter, trained: unseen messages are classified.
rt_start_milter "$conf" || rt_hard_error "cannot start rampart-milter"

# send NAME FILE: the headers rampart-milter adds at end of message.
send() {
	python3 "$RT_LIB_DIR/milterclient.py" --port "$RT_MILTER_PORT" --file "$2" \
		>"$RT_DIR/$1.milter" 2>&1 || true
	grep '^eom:' "$RT_DIR/$1.milter" || true
}
message new-spam $spam_words >"$RT_DIR/new-spam.eml"
message new-ham $ham_words >"$RT_DIR/new-ham.eml"
rt_check_match "an unseen spam-like message gets RAMPART_BAYES_SPAM" \
	"$(send new-spam "$RT_DIR/new-spam.eml")" "RAMPART_BAYES_SPAM\\([1-9]"
send new-ham "$RT_DIR/new-ham.eml" >/dev/null
rt_check_match "an unseen ham-like message gets RAMPART_BAYES_HAM" \
	"$(grep 'symbols=' "$RT_DIR/milter.log" | tail -n1)" "RAMPART_BAYES_HAM\\(-[1-9]"

ctl_expect "classify gives a spam-like message a high probability" 0 "extra-spam.eml" \
	bayes classify "$RT_DIR/extra-spam.eml"
p=$(awk '{ print $1 }' "$out")
rt_check "the probability is above 0.9 ($p)" "$(awk -v p="$p" 'BEGIN { print (p > 0.9) ? 1 : 0 }')" 1

# Relearning one spam as ham moves it; forgetting it takes it back.
first="$RT_DIR/first.eml"
message s1 $spam_words >"$first"
ctl_expect "relearning as the other class moves the message" 0 "0 new, 1 moved from spam" learn --ham "$first"
ctl_expect "the move is in the counts" 0 "spam=5 ham=7" bayes stats
ctl_expect "forget takes it back" 0 "forgot 1 message; 0 not learned before" forget "$first"
ctl_expect "forgetting again finds nothing" 0 "forgot 0 messages; 1 not learned before" forget "$first"
ctl_expect "after forgetting" 0 "spam=5 ham=6" bayes stats

# Below bayes.min_spam the milter classifies nothing.
few=$(send few "$RT_DIR/new-spam.eml")
rt_check_match "with 5 spam learned (min 6) the message is still scored" "$few" "^eom: .*X-Spam-Status"
rt_check "with 5 spam learned (min 6) no Bayes symbol is given" \
	"$(printf '%s\n' "$few" | grep -c RAMPART_BAYES || true)" 0

ctl_expect "per-domain statistics are separate" 0 "learned 1 message as spam for example.net: 1 new" \
	learn --spam --domain example.net "$RT_DIR/extra-spam.eml"
ctl_expect "the domain's stats" 0 "spam=1 ham=0" bayes stats --domain example.net
ctl_expect "expire sweeps every bucket" 0 "expired 0 tokens" bayes expire

ctl_expect "learn needs a class" 2 "learn needs --spam or --ham" learn "$mbox"
ctl_expect "learn needs a path" 2 "needs at least one file" learn --spam
ctl_expect "--domain needs a value" 2 "--domain needs a domain name" learn --spam "$mbox" --domain
ctl_expect "bayes needs a subcommand" 2 "expected stats, expire or classify" bayes frob
ctl_expect "a missing path fails" 1 "No such file or directory" learn --spam "$RT_DIR/nonexistent"

rt_stop_milter
rt_kill "$RT_REDIS_PID" KILL
RT_REDIS_PID=""
ctl_expect "learning with Redis down fails" 1 "Redis" learn --spam "$mbox"

rt_finish
