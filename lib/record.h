/* record.h — management records: an id "domain.category.id" (e.g.
 * "0.shadow_server.2") and an ordered list of attributes (name, value).
 *
 * Three forms:
 *  - binary (database value and wire): see record_encode_attrs;
 *  - text, as printed by the records tool and in dump files:
 *        0.shadow_server.2
 *        :type (peerGuiSvr)
 *        :clientOneTimePassword (netscreen)
 *        <blank line>
 *    A value runs from after " (" to the last ')' of the line. Inside it,
 *    backslash, newline, CR, tab and other bytes < 0x20 or 0x7f are escaped
 *    as \\ \n \r \t \xHH, so every record line is one text line.
 *    Lines starting with '#' outside a record are comments.
 *  - in memory: struct record.
 *
 * Id grammar: domain = decimal 0..4294967295 (no leading zeros except "0"),
 * category = [A-Za-z0-9_-]{1,64}, id = [A-Za-z0-9_.:-]{1,128}; total <= 255.
 * Attribute name = [A-Za-z0-9_.-]{1,128}; names are unique within a record. */
#ifndef HASVR_RECORD_H
#define HASVR_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RECORD_ID_MAX 255
#define RECORD_NAME_MAX 128

struct xattr {
	char *name;
	char *value;       /* NUL-terminated for convenience; may hold any bytes */
	uint32_t vlen;
};

struct record {
	char *id;
	size_t nattr, cap;
	struct xattr *attr;
};

/* Growable byte buffer + bounds-checked reader (also used by proto.c). */
struct buf {
	unsigned char *p;
	size_t len, cap;
	int oom;           /* set when a put failed to allocate; check once at end */
};
void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_put(struct buf *b, const void *d, size_t n);
void buf_put_u8(struct buf *b, uint8_t v);
void buf_put_u16(struct buf *b, uint16_t v);        /* big-endian */
void buf_put_u32(struct buf *b, uint32_t v);
void buf_put_u64(struct buf *b, uint64_t v);
void buf_put_str16(struct buf *b, const char *s, size_t n);   /* u16 len + bytes */
void buf_put_str32(struct buf *b, const char *s, size_t n);   /* u32 len + bytes */

struct rd {
	const unsigned char *p;
	size_t len, off;
	int bad;           /* set on any underflow; later gets return 0 / NULL */
};
void rd_init(struct rd *r, const void *p, size_t len);
uint8_t rd_u8(struct rd *r);
uint16_t rd_u16(struct rd *r);
uint32_t rd_u32(struct rd *r);
uint64_t rd_u64(struct rd *r);
/* Points into the buffer (not NUL-terminated); *n gets the length. */
const char *rd_str16(struct rd *r, size_t *n);
const char *rd_str32(struct rd *r, size_t *n);
int rd_done(const struct rd *r);    /* 1 if everything consumed and not bad */

/* Validation: 0 if valid, -1 with err explaining what is wrong. */
int record_id_valid(const char *id, size_t len, char *err, size_t errlen);
int record_name_valid(const char *name, size_t len, char *err, size_t errlen);
/* 1 if the prefix could start a valid id ("" , "0", "0.", "0.shadow_server." …). */
int record_prefix_valid(const char *prefix, size_t len, char *err, size_t errlen);

void record_init(struct record *r);
void record_free(struct record *r);          /* frees contents, leaves r empty */
int record_set_id(struct record *r, const char *id, size_t len);
/* Set (add or replace) an attribute; keeps first-set order. 0 or -1 (ENOMEM). */
int record_set(struct record *r, const char *name, size_t nlen, const char *value, size_t vlen);
/* Remove an attribute by name: 1 removed, 0 not present. */
int record_unset(struct record *r, const char *name);
const struct xattr *record_find(const struct record *r, const char *name);
/* Copy src's attributes onto dst (set semantics). */
int record_merge(struct record *dst, const struct record *src);

/* No record has more attributes: a request claiming more is refused before
 * anything is decoded (decoded, each costs far more memory than its few
 * bytes on the wire). */
#define RECORD_MAX_ATTRS 100000

/* Binary attributes: u32 count, then per attribute u16 name length, name,
 * u32 value length, value. Decoding validates names and rejects duplicates,
 * trailing bytes and lengths past the end. */
void record_encode_attrs(const struct record *r, struct buf *b);
int record_decode_attrs(struct record *r, const void *p, size_t len, char *err, size_t errlen);
/* Whole record on the wire: str16 id + attributes. */
void record_encode(const struct record *r, struct buf *b);
int record_decode_rd(struct record *r, struct rd *rd, char *err, size_t errlen);
/* Encoded size in bytes of record_encode_attrs (for size limits). */
size_t record_attrs_size(const struct record *r);

/* Text form. record_print writes the attribute lines only (":name (value)");
 * record_write_text writes id line + attribute lines + blank line. */
void record_print(const struct record *r, FILE *fp);
void record_write_text(const struct record *r, FILE *fp);
/* Read the next record in text form. Returns 1 (record read), 0 (EOF), -1
 * (error: err holds "line N: what is wrong"). *lineno is advanced. */
int record_read_text(FILE *fp, struct record *r, int *lineno, char *err, size_t errlen);
/* Parse one ":name (value)" line (unescaping). 0 or -1 with err. */
int record_parse_attr_line(const char *line, struct record *r, char *err, size_t errlen);
/* Parse "name=value" (from the command line); value is taken literally. */
int record_parse_assign(const char *arg, struct record *r, char *err, size_t errlen);

/* Batch operations (client batch requests and the store). */
enum rec_opcode {
	REC_OP_PUT = 1,    /* replace the whole record */
	REC_OP_SET = 2,    /* set the given attributes; creates the record if absent */
	REC_OP_UNSET = 3,  /* remove the named attributes (values ignored) */
	REC_OP_DEL = 4,    /* delete the record */
};
struct rec_op {
	uint8_t op;
	struct record rec;
};

#endif
