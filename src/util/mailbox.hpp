// NAME
//   mailbox.hpp - stored mail read from files, directories, mbox files and Maildirs
// DESCRIPTION
//   For `rampartctl learn`, which is pointed at whatever an admin keeps
//   mail in. read_mailbox() hands each message under a path to a callback,
//   in an order that is the same from one run to the next (file names
//   sorted within each directory), so that a learning run can be repeated
//   and its log lines compared:
//   - a regular file whose first line starts with "From " is an mbox: it is
//     split at "From " lines that open the file or follow an empty line;
//     each message is handed on without its "From " line and without the
//     empty line that precedes the next one, and body lines quoted as
//     ">From " (mboxrd or mboxo) lose one '>';
//   - any other regular file is one message;
//   - a directory with "cur" and "new" subdirectories is a Maildir: the
//     files of "new", then of "cur" ("tmp" holds deliveries still being
//     written), then its Maildir++ folders (".Name" subdirectories that
//     are Maildirs themselves);
//   - any other directory is walked depth first, each directory's entries
//     in name order.
//   Names starting with '.' are skipped, in Maildirs as anywhere else
//   (editors' and MDAs' working files, Maildir++ folders excepted).
//   A message is named, in log lines, by its file's path, or "PATH:N" for
//   the N-th (1-based) message of an mbox.
// LIMITS
//   A single-message file larger than kMaxStoredMessageBytes is skipped,
//   as is an mbox message larger than that; an mbox itself may be any size,
//   it is read line by line and holds at most one message in memory.
//   Symbolic links to directories are not followed (no loops), except for
//   `path` itself; links to files are read. An mbox cannot say whether it
//   is mboxrd or mboxo, so ">>From " always becomes ">From ", as mboxrd
//   wants. The empty line before the end of an mbox is dropped too: writers
//   end every message with one. Read errors and unreadable entries are
//   reported in `errors` and the walk goes on; exceptions thrown by `each`
//   (or std::bad_alloc) pass through.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace rampart {

inline constexpr std::size_t kMaxStoredMessageBytes = 64 * 1024 * 1024;

struct MailboxError {
    std::string path;
    std::string message;
};

// Calls `each(source, raw)` once per message found under `path`; `each`
// returns false to stop. Returns how many messages were handed to `each`.
std::size_t read_mailbox(const std::string& path,
                         const std::function<bool(const std::string& source, std::string_view raw)>& each,
                         std::vector<MailboxError>& errors);

} // namespace rampart
