/* The one table per namespace that every writer (text, JSON, HTML, pcapng comments) shares. */
#include "sl_names.h"

#include <stdio.h>

#include "sl_msg.h"

const struct sl_name sl_method_names[] = {
    {SL_BINDING, "Binding"},
    {SL_SHARED_SECRET, "SharedSecret"},
    {SL_ALLOCATE, "Allocate"},
    {SL_REFRESH, "Refresh"},
    {SL_SEND, "Send"},
    {SL_DATA, "Data"},
    {SL_CREATE_PERMISSION, "CreatePermission"},
    {SL_CHANNEL_BIND, "ChannelBind"},
    {SL_CONNECT, "Connect"},
    {SL_CONNECTION_BIND, "ConnectionBind"},
    {SL_CONNECTION_ATTEMPT, "ConnectionAttempt"},
    {SL_GOOG_PING, "GOOG-PING"},
};
const size_t sl_method_count = sizeof(sl_method_names) / sizeof(sl_method_names[0]);

const struct sl_name sl_attr_names[] = {
    {SL_ATTR_MAPPED_ADDRESS, "MAPPED-ADDRESS"},
    {SL_ATTR_RESPONSE_ADDRESS, "RESPONSE-ADDRESS"},
    {SL_ATTR_CHANGE_REQUEST, "CHANGE-REQUEST"},
    {SL_ATTR_SOURCE_ADDRESS, "SOURCE-ADDRESS"},
    {SL_ATTR_CHANGED_ADDRESS, "CHANGED-ADDRESS"},
    {SL_ATTR_USERNAME, "USERNAME"},
    {SL_ATTR_PASSWORD, "PASSWORD"},
    {SL_ATTR_MESSAGE_INTEGRITY, "MESSAGE-INTEGRITY"},
    {SL_ATTR_ERROR_CODE, "ERROR-CODE"},
    {SL_ATTR_UNKNOWN_ATTRIBUTES, "UNKNOWN-ATTRIBUTES"},
    {SL_ATTR_REFLECTED_FROM, "REFLECTED-FROM"},
    {SL_ATTR_CHANNEL_NUMBER, "CHANNEL-NUMBER"},
    {SL_ATTR_LIFETIME, "LIFETIME"},
    {SL_ATTR_XOR_PEER_ADDRESS, "XOR-PEER-ADDRESS"},
    {SL_ATTR_DATA, "DATA"},
    {SL_ATTR_REALM, "REALM"},
    {SL_ATTR_NONCE, "NONCE"},
    {SL_ATTR_XOR_RELAYED_ADDRESS, "XOR-RELAYED-ADDRESS"},
    {SL_ATTR_REQUESTED_ADDRESS_FAMILY, "REQUESTED-ADDRESS-FAMILY"},
    {SL_ATTR_EVEN_PORT, "EVEN-PORT"},
    {SL_ATTR_REQUESTED_TRANSPORT, "REQUESTED-TRANSPORT"},
    {SL_ATTR_DONT_FRAGMENT, "DONT-FRAGMENT"},
    {SL_ATTR_ACCESS_TOKEN, "ACCESS-TOKEN"},
    {SL_ATTR_MESSAGE_INTEGRITY_SHA256, "MESSAGE-INTEGRITY-SHA256"},
    {SL_ATTR_PASSWORD_ALGORITHM, "PASSWORD-ALGORITHM"},
    {SL_ATTR_USERHASH, "USERHASH"},
    {SL_ATTR_XOR_MAPPED_ADDRESS, "XOR-MAPPED-ADDRESS"},
    {SL_ATTR_RESERVATION_TOKEN, "RESERVATION-TOKEN"},
    {SL_ATTR_PRIORITY, "PRIORITY"},
    {SL_ATTR_USE_CANDIDATE, "USE-CANDIDATE"},
    {SL_ATTR_PADDING, "PADDING"},
    {SL_ATTR_RESPONSE_PORT, "RESPONSE-PORT"},
    {SL_ATTR_CONNECTION_ID, "CONNECTION-ID"},
    {SL_ATTR_ADDITIONAL_ADDRESS_FAMILY, "ADDITIONAL-ADDRESS-FAMILY"},
    {SL_ATTR_ADDRESS_ERROR_CODE, "ADDRESS-ERROR-CODE"},
    {SL_ATTR_PASSWORD_ALGORITHMS, "PASSWORD-ALGORITHMS"},
    {SL_ATTR_ALTERNATE_DOMAIN, "ALTERNATE-DOMAIN"},
    {SL_ATTR_ICMP, "ICMP"},
    {SL_ATTR_SOFTWARE, "SOFTWARE"},
    {SL_ATTR_ALTERNATE_SERVER, "ALTERNATE-SERVER"},
    {SL_ATTR_TRANSACTION_TRANSMIT_COUNTER, "TRANSACTION-TRANSMIT-COUNTER"},
    {SL_ATTR_CACHE_TIMEOUT, "CACHE-TIMEOUT"},
    {SL_ATTR_FINGERPRINT, "FINGERPRINT"},
    {SL_ATTR_ICE_CONTROLLED, "ICE-CONTROLLED"},
    {SL_ATTR_ICE_CONTROLLING, "ICE-CONTROLLING"},
    {SL_ATTR_RESPONSE_ORIGIN, "RESPONSE-ORIGIN"},
    {SL_ATTR_OTHER_ADDRESS, "OTHER-ADDRESS"},
    {SL_ATTR_ECN_CHECK, "ECN-CHECK"},
    {SL_ATTR_THIRD_PARTY_AUTHORIZATION, "THIRD-PARTY-AUTHORIZATION"},
    {SL_ATTR_MOBILITY_TICKET, "MOBILITY-TICKET"},
};
const size_t sl_attr_count = sizeof(sl_attr_names) / sizeof(sl_attr_names[0]);

/* Reason phrases from RFC 8489 §14.8, RFC 8656 §19, RFC 6062 §6.3, RFC 8016 §3.3, RFC 8445. */
const struct sl_error_info sl_error_infos[] = {
    {300, "Try Alternate", "the server redirects the client to ALTERNATE-SERVER"},
    {400, "Bad Request", "the server found the request malformed"},
    {401, "Unauthenticated", "credentials are missing or wrong (a first 401 is the normal challenge)"},
    {403, "Forbidden", "the request is valid but the server's policy refuses it"},
    {405, "Mobility Forbidden", "the server does not allow mobility for this allocation"},
    {420, "Unknown Attribute", "the server does not understand a comprehension-required attribute"},
    {437, "Allocation Mismatch", "the 5-tuple has no allocation, or already has one"},
    {438, "Stale Nonce", "the nonce expired; retry with the new one"},
    {440, "Address Family not Supported", "the server cannot relay the requested address family"},
    {441, "Wrong Credentials", "the credentials differ from those that created the allocation"},
    {442, "Unsupported Transport Protocol", "the server cannot relay the requested transport"},
    {443, "Peer Address Family Mismatch", "the peer's address family differs from the relay's"},
    {446, "Connection Already Exists", "a TCP connection to that peer already exists"},
    {447, "Connection Timeout or Failure", "the server could not connect to the TCP peer"},
    {486, "Allocation Quota Reached", "the user has as many allocations as the server allows"},
    {487, "Role Conflict", "both ICE agents claim the same role"},
    {500, "Server Error", "the server failed temporarily"},
    {508, "Insufficient Capacity", "the server has no relay ports or bandwidth left"},
};
const size_t sl_error_count = sizeof(sl_error_infos) / sizeof(sl_error_infos[0]);

static const char *lookup(const struct sl_name *t, size_t n, uint16_t v)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].value == v)
            return t[i].name;
    return NULL;
}

const char *sl_method_name(uint16_t method)
{
    return lookup(sl_method_names, sl_method_count, method);
}

const char *sl_attr_name(uint16_t type)
{
    return lookup(sl_attr_names, sl_attr_count, type);
}

const struct sl_error_info *sl_error_info(int code)
{
    for (size_t i = 0; i < sl_error_count; i++)
        if (sl_error_infos[i].code == code)
            return &sl_error_infos[i];
    return NULL;
}

const char *sl_class_name(int cls)
{
    static const char *const n[] = {"request", "indication", "success response", "error response"};
    return cls >= 0 && cls < 4 ? n[cls] : "?";
}

const char *sl_type_describe(uint16_t type, char *buf, size_t n)
{
    uint16_t method = sl_type_method(type);
    const char *mn = sl_method_name(method);
    int cls = sl_type_class(type);
    /* Send and Data exist only as indications (RFC 8656 §10, §11). */
    if (mn)
        snprintf(buf, n, "%s %s", mn, sl_class_name(cls));
    else
        snprintf(buf, n, "method 0x%03x %s", method, sl_class_name(cls));
    return buf;
}
