// The low-level SHA256_*/SHA512_* calls are deprecated in OpenSSL 3, but they are the
// only ones whose context is plain data that can be saved and restored, which is what
// makes upload sessions resumable without re-reading their bytes.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>
