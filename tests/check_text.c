/* Tests for the text helpers (src/text.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "text.h"

static size_t
len(const char *s)
{
	return text_utf8_len(s, strlen(s) ? strlen(s) : 1);
}

START_TEST(test_utf8_len_accepts_well_formed)
{
	ck_assert_uint_eq(len("a"), 1);
	ck_assert_uint_eq(len("\x01"), 1);
	ck_assert_uint_eq(len("\xc3\xa9"), 2);		/* é */
	ck_assert_uint_eq(len("\xe2\x82\xac"), 3);	/* € */
	ck_assert_uint_eq(len("\xed\x9f\xbf"), 3);	/* U+D7FF */
	ck_assert_uint_eq(len("\xf0\x9f\x98\x80"), 4);	/* U+1F600 */
	ck_assert_uint_eq(len("\xf4\x8f\xbf\xbf"), 4);	/* U+10FFFF */
}
END_TEST

START_TEST(test_utf8_len_rejects_ill_formed)
{
	ck_assert_uint_eq(len("\x80"), 0);		/* lone continuation */
	ck_assert_uint_eq(len("\xc0\xaf"), 0);		/* overlong '/' */
	ck_assert_uint_eq(len("\xc1\xbf"), 0);
	ck_assert_uint_eq(len("\xe0\x9f\xbf"), 0);	/* overlong, 3 bytes */
	ck_assert_uint_eq(len("\xed\xa0\x80"), 0);	/* surrogate D800 */
	ck_assert_uint_eq(len("\xf0\x8f\xbf\xbf"), 0);	/* overlong, 4 bytes */
	ck_assert_uint_eq(len("\xf4\x90\x80\x80"), 0);	/* beyond U+10FFFF */
	ck_assert_uint_eq(len("\xf5\x80\x80\x80"), 0);
	ck_assert_uint_eq(len("\xff"), 0);
	ck_assert_uint_eq(len("\xc3"), 0);		/* truncated */
	ck_assert_uint_eq(len("\xe2\x82"), 0);
	ck_assert_uint_eq(len("\xe2\x82x"), 0);		/* bad third byte */
	/* n bounds the look: a valid sequence cut short is not one. */
	ck_assert_uint_eq(text_utf8_len("\xc3\xa9", 1), 0);
}
END_TEST

START_TEST(test_utf8_sanitize_replaces_each_bad_byte)
{
	char *s = text_utf8_sanitize("a\xff" "b\xc3\xa9\xed\xa0\x80");

	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "a\xef\xbf\xbd" "b\xc3\xa9"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	free(s);
	s = text_utf8_sanitize("");
	ck_assert_str_eq(s, "");
	free(s);
	ck_assert(!text_has_high_bytes("plain_key"));
	ck_assert(text_has_high_bytes("k\xc3\xa9"));
}
END_TEST

START_TEST(test_display_escapes_controls_and_bad_bytes)
{
	size_t w = 0;
	char *s = text_display("a\tb\xc3\xa9\xff\x7f", &w);

	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "a\\x09b\xc3\xa9\\xff\\x7f");
	ck_assert_uint_eq(w, 1 + 4 + 1 + 1 + 4 + 4);
	free(s);
}
END_TEST

START_TEST(test_double_is_shortest_round_trip)
{
	char b[TEXT_DOUBLE_MAX];

	text_double(b, 0.1);
	ck_assert_str_eq(b, "0.1");
	text_double(b, 0.1 + 0.2);
	ck_assert_str_eq(b, "0.30000000000000004");
	ck_assert(strtod(b, NULL) == 0.1 + 0.2);
	ck_assert_uint_eq(text_double(b, 1e300), strlen("1e+300"));
	ck_assert_str_eq(b, "1e+300");
	text_double(b, -2.5);
	ck_assert_str_eq(b, "-2.5");
	text_double(b, 5e-324);
	ck_assert(strtod(b, NULL) == 5e-324);
	text_double(b, -1.7976931348623157e308);
	ck_assert(strtod(b, NULL) == -1.7976931348623157e308);
}
END_TEST

Suite *
text_suite(void)
{
	Suite *s = suite_create("text");
	TCase *tc = tcase_create("utf8");

	tcase_add_test(tc, test_utf8_len_accepts_well_formed);
	tcase_add_test(tc, test_utf8_len_rejects_ill_formed);
	tcase_add_test(tc, test_utf8_sanitize_replaces_each_bad_byte);
	tcase_add_test(tc, test_display_escapes_controls_and_bad_bytes);
	suite_add_tcase(s, tc);
	tc = tcase_create("double");
	tcase_add_test(tc, test_double_is_shortest_round_trip);
	suite_add_tcase(s, tc);
	return s;
}
