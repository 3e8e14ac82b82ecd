/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Samples of what ordinary API traffic puts in the buffers (see
 * mt_typical.h). Build time only.
 */
#include "mt_typical.h"

#include "mt_engine_int.h"

#include <string.h>

const char *
mt_typical_of(uint8_t buf)
{
	if (MT_BUFID_SIDE(buf) == 1) {
		switch (MT_BUFID_KIND(buf)) {
		case MT_B_HEADER:
		case MT_B_HEADER_RAW:
			return "Date: Sun, 29 Nov 2026 02:09:10 GMT\r\nServer: nginx/1.24.0\r\n"
			       "Content-Type: application/json; charset=utf-8\r\n"
			       "Content-Length: 2512\r\nConnection: keep-alive\r\n"
			       "Cache-Control: no-store\r\nETag: W/\"9c4-1a2b3c\"\r\n"
			       "Vary: Accept-Encoding, Origin\r\nX-Request-Id: 6f1c2e7a-93b4\r\n"
			       "Access-Control-Allow-Origin: https://app.example.com\r\n"
			       "Strict-Transport-Security: max-age=31536000\r\n"
			       "X-RateLimit-Remaining: 98\r\n";
		case MT_B_COOKIE:
			return "session=8f2a9c41d7; Path=/; HttpOnly; Secure; SameSite=Lax";
		default:
			return NULL;
		}
	}
	switch (MT_BUFID_KIND(buf)) {
	case MT_B_URI:
	case MT_B_URI_RAW:
	case MT_B_REQUEST_LINE:
		return "GET /api/v2/users/12345/orders?limit=20&offset=40&sort=-created_at"
		       "&fields=id,name,status&include=items&q=shipped&since=2024-01-01T00:00:00Z"
		       "&page[size]=50&filter[email]=ann%40example.com HTTP/1.1";
	case MT_B_HEADER:
	case MT_B_HEADER_RAW:
		return "Host: api.example.com\r\nUser-Agent: Mozilla/5.0 (Linux; Android 13; "
		       "Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile "
		       "Safari/537.36\r\nAccept: application/json, text/plain, */*\r\n"
		       "Accept-Encoding: gzip, deflate, br\r\nAccept-Language: en-US,en;q=0.9\r\n"
		       "Authorization: Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9\r\n"
		       "Content-Type: application/json; charset=utf-8\r\nContent-Length: 1024\r\n"
		       "Cookie: sessionid=8f2a9c; csrftoken=Zx81; _ga=GA1.2.1234\r\n"
		       "X-Request-Id: 6f1c2e7a-93b4-4d0e-8a5b-1c2d3e4f5a6b\r\n"
		       "X-Forwarded-For: 203.0.113.7\r\nOrigin: https://app.example.com\r\n"
		       "Referer: https://app.example.com/account/settings\r\n"
		       "Connection: keep-alive\r\nCache-Control: no-cache\r\n";
	case MT_B_COOKIE:
		return "sessionid=8f2a9c41d7; csrftoken=Zx81Qw; _ga=GA1.2.1234.5678; "
		       "theme=dark; locale=en_US; userId=42; cart=%7B%22n%22%3A2%7D";
	case MT_B_UA:
		return "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
		       "Gecko) Chrome/120.0.0.0 Safari/537.36 okhttp/4.12.0 python-requests/2.31";
	default:
		return NULL;
	}
}

bool
mt_typical_has(const uint8_t *p, uint32_t l, bool caseless, uint8_t buf)
{
	const char *t = mt_typical_of(buf);

	return t != NULL && mt_relit_bytes_in(p, l, caseless, t, strlen(t));
}
