#pragma once

// The libcrypto (OpenSSL 3) functions crcr calls, loaded the first time one is needed (a
// signature made or checked, a key read), as libcurl is: mapping libcrypto, its 17,000
// relocations and 4,000 symbols bound cost about 2 ms of CPU at start-up, which commands that
// never sign anything (validate-allowlist, plan, gen-workflow) should not pay. The portable build
// links libcrypto statically and fills the table with its functions. Only src/jwt.cpp and
// src/signature.cpp call OpenSSL, through `openssl()`; a function called directly fails the link
// of the shared-library build, which does not link libcrypto.

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/pem.h>

// X(name) for each function of the table.
#define CRCR_OPENSSL_FUNCTIONS(X)                                                                  \
    X(BIO_free)                                                                                    \
    X(BIO_new_mem_buf)                                                                             \
    X(BN_bin2bn)                                                                                   \
    X(BN_bn2bin)                                                                                   \
    X(BN_free)                                                                                     \
    X(BN_is_zero)                                                                                  \
    X(BN_num_bits)                                                                                 \
    X(CRYPTO_memcmp)                                                                               \
    X(ERR_clear_error)                                                                             \
    X(EVP_DigestSign)                                                                              \
    X(EVP_DigestSignInit)                                                                          \
    X(EVP_DigestVerify)                                                                            \
    X(EVP_DigestVerifyInit)                                                                        \
    X(EVP_MAC_CTX_free)                                                                            \
    X(EVP_MAC_CTX_new)                                                                             \
    X(EVP_MAC_fetch)                                                                               \
    X(EVP_MAC_final)                                                                               \
    X(EVP_MAC_free)                                                                                \
    X(EVP_MAC_init)                                                                                \
    X(EVP_MAC_update)                                                                              \
    X(EVP_MD_CTX_free)                                                                             \
    X(EVP_MD_CTX_new)                                                                              \
    X(EVP_PKEY_CTX_free)                                                                           \
    X(EVP_PKEY_CTX_new_from_name)                                                                  \
    X(EVP_PKEY_free)                                                                               \
    X(EVP_PKEY_fromdata)                                                                           \
    X(EVP_PKEY_fromdata_init)                                                                      \
    X(EVP_PKEY_get_base_id)                                                                        \
    X(EVP_PKEY_get_bits)                                                                           \
    X(EVP_PKEY_get_bn_param)                                                                       \
    X(EVP_sha256)                                                                                  \
    X(OBJ_nid2sn)                                                                                  \
    X(OSSL_PARAM_BLD_free)                                                                         \
    X(OSSL_PARAM_BLD_new)                                                                          \
    X(OSSL_PARAM_BLD_push_BN)                                                                      \
    X(OSSL_PARAM_BLD_to_param)                                                                     \
    X(OSSL_PARAM_construct_end)                                                                    \
    X(OSSL_PARAM_construct_utf8_string)                                                            \
    X(OSSL_PARAM_free)                                                                             \
    X(PEM_read_bio_PUBKEY)                                                                         \
    X(PEM_read_bio_PrivateKey)

namespace crcr {

// Each function under its own name: `openssl().EVP_MAC_fetch(...)`.
struct OpenSsl {
#define CRCR_OPENSSL_POINTER(name) decltype(&::name) name = nullptr;
    CRCR_OPENSSL_FUNCTIONS(CRCR_OPENSSL_POINTER)
#undef CRCR_OPENSSL_POINTER
};

// libcrypto's functions, loaded once per process. Throws `crcr::Error` when libcrypto.so.3 cannot
// be loaded or lacks one of them.
const OpenSsl& openssl();

} // namespace crcr
