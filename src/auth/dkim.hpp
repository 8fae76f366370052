// NAME
//   dkim.hpp - DKIM signature verification (RFC 6376) with libopendkim over rampart's resolver
// DESCRIPTION
//   A DkimVerifier is fed one message as it arrives (each header field,
//   the end of the header, each body chunk); finish() then looks up the
//   key of every signature (SELECTOR._domainkey.DOMAIN, TXT) through
//   dns::Resolver, each lookup waiting no longer than the deadline, and
//   says for each signature: pass, fail (the signature or the body hash
//   does not match), neutral (expired, or dated in the future), policy
//   (a key under DKIM_OPTS_MINKEYBITS bits), temperror (the key could not
//   be looked up) or permerror (no key, a revoked or broken key, a broken
//   signature), with its domain, selector, algorithm and key size.
//
//   At most kMaxSignatures signatures of a message are verified (each is a
//   key lookup and an RSA verification); the rest are ignored. Once the
//   deadline has passed, no key is looked up any more.
//
//   One DkimLibrary serves a process (it holds libopendkim's DKIM_LIB and
//   its key-lookup hook); verifiers are made from it per message.
// SECURITY
//   Signatures and keys are untrusted input: libopendkim parses them; the
//   key record is cut to the buffer libopendkim gives, and what is logged
//   or put in a header is made printable.
#pragma once

#include "dns/resolver.hpp"
#include "util/error.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct dkim_lib;
struct dkim;

namespace rampart::auth {

enum class DkimResult { pass, fail, neutral, policy, temperror, permerror };

inline constexpr std::size_t kMaxSignatures = 8; // verified per message; the rest are ignored
std::string_view to_string(DkimResult r);

struct DkimSignature {
    DkimResult result = DkimResult::permerror;
    std::string domain;    // d=
    std::string selector;  // s=
    std::string algorithm; // "rsa-sha256", "ed25519-sha256"
    unsigned key_bits = 0; // 0 when no key was read
    std::string error;     // what went wrong, libopendkim's words; empty for a pass
};

class DkimLibrary {
  public:
    DkimLibrary(); // throws std::runtime_error when libopendkim cannot start
    ~DkimLibrary();
    DkimLibrary(const DkimLibrary&) = delete;
    DkimLibrary& operator=(const DkimLibrary&) = delete;
    dkim_lib* handle() const { return d_lib; }

  private:
    dkim_lib* d_lib = nullptr;
};

// A signing key: mail whose From domain is `domain` or below it is signed
// with d=domain, s=selector.
struct DkimKey {
    std::string domain;
    std::string selector;
    std::string pem; // the private key, PEM
};

// "DOMAIN:SELECTOR:KEYFILE" (dkim.keys) -> the key, its file read; an
// Error names what is wrong (syntax, an unreadable or empty file).
Result<DkimKey> load_dkim_key(std::string_view spec);
// The key of `keys` for mail From `from_domain`: its own, else the nearest
// parent domain's; nullptr when none.
const DkimKey* key_for(const std::vector<DkimKey>& keys, std::string_view from_domain);

// Signs one message (relaxed/relaxed, rsa-sha256, libopendkim's choice of
// header fields), fed as it arrives like a verifier.
class DkimSigner {
  public:
    DkimSigner(const DkimLibrary& lib, const DkimKey& key, std::string_view id);
    ~DkimSigner();
    DkimSigner(const DkimSigner&) = delete;
    DkimSigner& operator=(const DkimSigner&) = delete;

    void header(std::string_view name, std::string_view value);
    void end_of_header();
    void body(std::string_view chunk);
    bool wants_body() const { return d_dkim != nullptr; }
    // The DKIM-Signature field's value, folded; empty when signing failed.
    std::string finish();

  private:
    dkim* d_dkim = nullptr;
    bool d_header_done = false;
};

class DkimVerifier {
  public:
    DkimVerifier(const DkimLibrary& lib, std::string_view id);
    ~DkimVerifier();
    DkimVerifier(const DkimVerifier&) = delete;
    DkimVerifier& operator=(const DkimVerifier&) = delete;

    void header(std::string_view name, std::string_view value);
    void end_of_header();
    void body(std::string_view chunk);
    // False once it is known that nothing is to be verified (no signature,
    // or libopendkim gave up): the rest of the body is not needed.
    bool wants_body() const { return d_dkim != nullptr && d_signed; }
    // Every signature's result; empty when the message has none.
    std::vector<DkimSignature> finish(dns::Resolver& resolver, std::chrono::steady_clock::time_point deadline);

  private:
    dkim* d_dkim = nullptr;
    bool d_signed = false; // a DKIM-Signature field was seen
    bool d_header_done = false;
};

} // namespace rampart::auth
