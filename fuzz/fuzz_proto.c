/*
 * The socket protocol.  The first byte picks the mode:
 *   even: the rest is one request line for proto_parse_request();
 *   odd:  the rest is a byte stream cut into partial writes (each chunk's
 *         length is taken from the stream itself) and fed to a proto_buf,
 *         every complete line going through proto_parse_request() as
 *         control.c does, with a small max so the too-large path is hit.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "proto.h"

FUZZ_DECLARE(proto);

FUZZ_INIT(proto)
{
	return 0;
}

static void
fuzz_proto_line(const char *line, size_t len)
{
	const char	*cmd, *code;
	json_t		*req, *args;
	char		 msg[256];

	if (proto_parse_request(line, len, &req, &cmd, &args, &code, msg,
	    sizeof(msg)) == 0)
		json_decref(req);
}

FUZZ_ENTRY(proto)
{
	struct proto_buf	 b;
	char			*line;
	size_t			 len, off, n;
	int			 rc;

	if (size == 0)
		return 0;
	if ((data[0] & 1) == 0) {
		fuzz_proto_line((const char *)data + 1, size - 1);
		return 0;
	}
	proto_buf_init(&b, 1 + (data[0] >> 1) * 64);
	for (off = 1; off < size; off += n) {
		n = 1 + data[off] % 97;
		if (n > size - off)
			n = size - off;
		proto_buf_append(&b, (const char *)data + off, n);
		while ((rc = proto_buf_take(&b, &line, &len)) == 1)
			fuzz_proto_line(line, len);
		if (rc == -1)
			break;	/* control.c answers too_large and drains */
	}
	proto_buf_free(&b);
	return 0;
}
