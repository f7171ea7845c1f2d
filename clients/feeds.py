"""Reads the server's feeds with feedparser and validates its sitemap against the sitemaps.org
schemas, as a feed reader and a crawler would.

    python feeds.py BASE_URL EXPECTED.json

EXPECTED.json (written by the Rust test from the GraphQL API's own answers):
    {"feeds": [{"path": "/feeds/releases.atom?programme=score", "version": "atom10",
                "entries": [{"title": "...", "link": "http://.../releases/<slug>"}, ...]}, ...],
     "sitemap": {"release_links": ["http://.../releases/<slug>", ...]}}

Each Atom and RSS feed must parse without a bozo (feedparser's word for a malformed feed), be of the expected
version, and list exactly the expected entries in order (feedparser 6 reads no JSON Feed:
`feeds.mjs` and the Rust tests read that one). The sitemap index must be valid against
siteindex.xsd, its entries' `loc` and `lastmod` against the official types of sitemap.xsd, and
every page it lists against sitemap.xsd; the pages together must list every release once.
Prints one line per check; exits 1 on the first failure.
"""

import importlib.util
import json
import sys
import urllib.request
from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import feedparser
import xmlschema

NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
CLIENTS = Path(__file__).resolve().parent
# The sitemaps.org schema for sitemaps, as the npm package `sitemap` ships it.
SITEMAP_XSD = CLIENTS / "node_modules" / "sitemap" / "schema" / "sitemap.xsd"


def fail(message):
    print(f"FAIL {message}")
    sys.exit(1)


def fetch(url):
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read(), dict(response.headers)


def siteindex_xsd():
    """sitemap-verify's siteindex.xsd, found without importing the package."""
    spec = importlib.util.find_spec("sitemap_verify")
    if spec is None or not spec.submodule_search_locations:
        fail("sitemap-verify is not installed (clients/requirements.txt)")
    return Path(spec.submodule_search_locations[0]) / "schemas" / "siteindex.xsd"


def check_feed(base, feed):
    body, headers = fetch(base + feed["path"])
    parsed = feedparser.parse(body, response_headers={k.lower(): v for k, v in headers.items()})
    if parsed.bozo:
        fail(f"{feed['path']}: feedparser reports a malformed feed: {parsed.bozo_exception!r}")
    if parsed.version != feed["version"]:
        fail(f"{feed['path']}: feedparser read {parsed.version!r}, expected {feed['version']!r}")
    seen = [{"title": e.get("title"), "link": e.get("link")} for e in parsed.entries]
    if seen != feed["entries"]:
        fail(f"{feed['path']}: feedparser saw {json.dumps(seen)[:2000]}\n"
             f"expected {json.dumps(feed['entries'])[:2000]}")
    print(f"ok   {feed['path']}: {parsed.version}, {len(seen)} entries as the API lists them")


def validate(schema, text, what):
    errors = list(schema.iter_errors(text))
    if errors:
        fail(f"{what} is not valid against {Path(schema.url or '').name}: {errors[0]}")


def check_sitemap(base, expected_links):
    sitemap = xmlschema.XMLSchema10(str(SITEMAP_XSD))
    siteindex = xmlschema.XMLSchema10(str(siteindex_xsd()))
    index, _ = fetch(base + "/sitemap.xml")
    index_text = index.decode("utf-8")
    validate(siteindex, index_text, "/sitemap.xml")
    root = ElementTree.fromstring(index)
    pages = []
    as_urls = []
    for entry in root.findall(f"{{{NAMESPACE}}}sitemap"):
        loc = entry.findtext(f"{{{NAMESPACE}}}loc")
        lastmod = entry.findtext(f"{{{NAMESPACE}}}lastmod")
        pages.append(loc)
        as_urls.append(f"<url><loc>{escape(loc)}</loc>"
                       + (f"<lastmod>{escape(lastmod)}</lastmod>" if lastmod else "") + "</url>")
    # The index's entries have the very `loc` and `lastmod` types of sitemap.xsd's URLs.
    validate(sitemap, f'<urlset xmlns="{NAMESPACE}">{"".join(as_urls)}</urlset>',
             "/sitemap.xml's locations and dates")
    release_links = []
    for page in pages:
        body, _ = fetch(page)
        validate(sitemap, body.decode("utf-8"), page)
        page_root = ElementTree.fromstring(body)
        locs = [url.findtext(f"{{{NAMESPACE}}}loc") for url in page_root.findall(f"{{{NAMESPACE}}}url")]
        release_links.extend(loc for loc in locs if "/releases/" in loc)
    if sorted(release_links) != sorted(expected_links) or len(set(release_links)) != len(release_links):
        fail(f"the sitemap lists {len(release_links)} release pages ({len(set(release_links))} distinct), "
             f"expected each of the {len(expected_links)} releases once")
    print(f"ok   /sitemap.xml and its {len(pages)} pages are valid; "
          f"{len(release_links)} releases, each once")


def main():
    if len(sys.argv) != 3:
        fail("usage: feeds.py BASE_URL EXPECTED.json")
    base = sys.argv[1].rstrip("/")
    expected = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
    xml_feeds = [feed for feed in expected["feeds"] if not feed["version"].startswith("json")]
    for feed in xml_feeds:
        check_feed(base, feed)
    check_sitemap(base, expected["sitemap"]["release_links"])
    print(f"{len(xml_feeds)} feeds read by feedparser {feedparser.__version__}; "
          f"sitemap valid (xmlschema {xmlschema.__version__})")


if __name__ == "__main__":
    main()
