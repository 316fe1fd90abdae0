/* The --allow-net parser and matcher: names, wildcard names, IPv4/IPv6 addresses and
 * CIDRs, ports, host.ward.internal, and the values it must refuse. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <string.h>

#include "gofer/egress_policy.h"

static struct egress_rule rule(const char *s)
{
	struct egress_rule r;
	char why[160];
	int err = egress_rule_parse(s, &r, why, sizeof(why));
	cr_assert_eq(err, 0, "%s: %s", s, why);
	return r;
}

static void refused(const char *s)
{
	struct egress_rule r;
	char why[160] = "";
	cr_assert_lt(egress_rule_parse(s, &r, why, sizeof(why)), 0, "%s was accepted", s);
	cr_assert_neq(why[0], '\0', "%s: no reason given", s);
}

static const uint8_t *v4(const char *s)
{
	static uint8_t a[16];
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	cr_assert_eq(inet_pton(AF_INET, s, a + 12), 1);
	return a;
}

static const uint8_t *v6(const char *s)
{
	static uint8_t a[16];
	cr_assert_eq(inet_pton(AF_INET6, s, a), 1);
	return a;
}

Test(egress_policy, names)
{
	struct egress_rule r = rule("PyPI.org.:443");
	cr_assert_eq(r.kind, EGRESS_NAME);
	cr_assert_str_eq(r.name, "pypi.org");
	cr_assert(egress_rule_match_name(&r, "pypi.org", 443));
	cr_assert_not(egress_rule_match_name(&r, "pypi.org", 80));
	cr_assert_not(egress_rule_match_name(&r, "files.pypi.org", 443));
	cr_assert_not(egress_rule_match_name(&r, "xpypi.org", 443));
	/* port 0: "any rule for this name" (what DNS asks) */
	cr_assert(egress_rule_match_name(&r, "pypi.org", 0));
	/* a name rule never matches an address as such */
	cr_assert_not(egress_rule_match_addr(&r, v4("151.101.0.223"), 443));
}

Test(egress_policy, wildcards)
{
	struct egress_rule r = rule("*.github.com:443");
	cr_assert_eq(r.kind, EGRESS_WILDCARD);
	cr_assert(egress_rule_match_name(&r, "api.github.com", 443));
	cr_assert(egress_rule_match_name(&r, "a.b.github.com", 443));
	cr_assert_not(egress_rule_match_name(&r, "github.com", 443));
	cr_assert_not(egress_rule_match_name(&r, "evilgithub.com", 443));
	cr_assert_not(egress_rule_match_name(&r, "github.com.evil.org", 443));
	cr_assert_not(egress_rule_match_name(&r, "api.github.com", 22));
	struct egress_rule any = rule("*.example.org:*");
	cr_assert(egress_rule_match_name(&any, "x.example.org", 1));
	cr_assert(egress_rule_match_name(&any, "x.example.org", 65535));
}

Test(egress_policy, ipv4_and_cidr)
{
	struct egress_rule r = rule("192.0.2.0/24:80");
	cr_assert_eq(r.kind, EGRESS_CIDR);
	cr_assert(egress_rule_match_addr(&r, v4("192.0.2.1"), 80));
	cr_assert(egress_rule_match_addr(&r, v4("192.0.2.255"), 80));
	cr_assert_not(egress_rule_match_addr(&r, v4("192.0.3.1"), 80));
	cr_assert_not(egress_rule_match_addr(&r, v4("192.0.2.1"), 81));
	cr_assert_not(egress_rule_match_name(&r, "192.0.2.1", 80));
	struct egress_rule one = rule("203.0.113.7:*");
	cr_assert(egress_rule_match_addr(&one, v4("203.0.113.7"), 9));
	cr_assert_not(egress_rule_match_addr(&one, v4("203.0.113.8"), 9));
	/* an IPv4 rule does not match an IPv6 address with the same low bits */
	cr_assert_not(egress_rule_match_addr(&one, v6("2001:db8::cb00:7107"), 9));
}

Test(egress_policy, everything_rule_keeps_loopback_out)
{
	struct egress_rule r = rule("0.0.0.0/0:*");
	cr_assert(egress_rule_match_addr(&r, v4("8.8.8.8"), 53));
	cr_assert_not(egress_rule_match_addr(&r, v4("127.0.0.1"), 22));
	cr_assert_not(egress_rule_match_addr(&r, v4("127.1.2.3"), 22));
	cr_assert_not(egress_rule_match_addr(&r, v4("0.0.0.0"), 22));
	cr_assert_not(egress_rule_match_addr(&r, v4("224.0.0.1"), 22));
	cr_assert_not(egress_rule_match_addr(&r, v4("255.255.255.255"), 22));
	struct egress_rule r6 = rule("[::/0]:*");
	cr_assert(egress_rule_match_addr(&r6, v6("2001:db8::1"), 443));
	cr_assert_not(egress_rule_match_addr(&r6, v6("::1"), 22));
	cr_assert_not(egress_rule_match_addr(&r6, v6("::"), 22));
	cr_assert_not(egress_rule_match_addr(&r6, v6("ff02::1"), 22));
	cr_assert_not(egress_rule_match_addr(&r6, v4("127.0.0.1"), 22)); /* v4-mapped loopback */
}

Test(egress_policy, ipv6)
{
	struct egress_rule r = rule("[2001:db8::/32]:443");
	cr_assert(egress_rule_match_addr(&r, v6("2001:db8:1::5"), 443));
	cr_assert_not(egress_rule_match_addr(&r, v6("2001:db9::5"), 443));
	struct egress_rule one = rule("[2001:db8::1]:22");
	cr_assert(egress_rule_match_addr(&one, v6("2001:db8::1"), 22));
	cr_assert_not(egress_rule_match_addr(&one, v6("2001:db8::2"), 22));
}

Test(egress_policy, host_internal)
{
	struct egress_rule r = rule("host.ward.internal:9999");
	cr_assert_eq(r.kind, EGRESS_NAME);
	cr_assert(egress_rule_match_name(&r, EGRESS_HOST_INTERNAL, 9999));
	cr_assert_not(egress_rule_match_name(&r, EGRESS_HOST_INTERNAL, 9998));
}

Test(egress_policy, bad_values)
{
	refused("example.com");          /* no port */
	refused("example.com:");         /* empty port */
	refused("example.com:0");
	refused("example.com:65536");
	refused("example.com:http");
	refused("example.com:-1");
	refused(":443");
	refused("exa mple.com:443");
	refused("ex*ample.com:443");
	refused("*example.com:443");
	refused("*.com:443");            /* a whole top-level domain */
	refused("*.ward.internal:80");
	refused("a..b:443");
	refused("10.0.0.1/8:443");       /* host bits set */
	refused("10.0.0.0/33:443");
	refused("300.1.1.1:443");
	refused("2001:db8::1:443");      /* IPv6 without brackets */
	refused("[2001:db8::1]443");
	refused("[2001:db8::1/129]:443");
	refused("[nonsense]:443");
	char longname[400];
	memset(longname, 'a', sizeof(longname));
	strcpy(longname + 300, ".com:443");
	refused(longname);
}

Test(egress_policy, name_normalize)
{
	char out[300];
	cr_assert_eq(egress_name_normalize("WWW.Example.COM.", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "www.example.com");
	cr_assert_lt(egress_name_normalize(".", out, sizeof(out)), 0);
	cr_assert_lt(egress_name_normalize("a..b", out, sizeof(out)), 0);
	cr_assert_lt(egress_name_normalize("a\"b", out, sizeof(out)), 0);
	char label[80];
	memset(label, 'x', 64);
	label[64] = '\0';
	cr_assert_lt(egress_name_normalize(label, out, sizeof(out)), 0); /* 64-byte label */
}
