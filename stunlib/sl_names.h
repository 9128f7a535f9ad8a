/* Name tables for methods, classes, attributes and error codes: every writer uses these words. */
#ifndef SL_NAMES_H
#define SL_NAMES_H

#include <stddef.h>
#include <stdint.h>

struct sl_name {
    uint16_t value;
    const char *name;
};

struct sl_error_info {
    int code;
    const char *reason;  /* the RFC's reason phrase */
    const char *meaning; /* one line for a person */
};

extern const struct sl_name sl_method_names[];
extern const size_t sl_method_count;
extern const struct sl_name sl_attr_names[];
extern const size_t sl_attr_count;
extern const struct sl_error_info sl_error_infos[];
extern const size_t sl_error_count;

/* NULL when unknown. */
const char *sl_method_name(uint16_t method);
const char *sl_attr_name(uint16_t type);
const struct sl_error_info *sl_error_info(int code);
/* "request", "indication", "success response", "error response". */
const char *sl_class_name(int cls);
/* "Allocate request", "Binding success response", "method 0x0ab request": never NULL. */
const char *sl_type_describe(uint16_t type, char *buf, size_t n);

#endif
