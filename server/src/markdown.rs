//! Organizer-written Markdown to HTML that is safe to put in a page: pulldown-cmark renders,
//! ammonia keeps only harmless tags and attributes (no scripts, no event handlers, no
//! `javascript:` links) and marks links `noopener noreferrer nofollow`.
use pulldown_cmark::{Options, Parser, html};

pub fn render(markdown: &str) -> String {
    let parser = Parser::new_ext(
        markdown,
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES,
    );
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut raw, parser);
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&raw)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_becomes_html() {
        let html = render("**Doors** at 20:30\n\n- bring *friends*");
        assert!(html.contains("<strong>Doors</strong>"));
        assert!(html.contains("<li>bring <em>friends</em></li>"));
    }

    #[test]
    fn scripts_handlers_and_javascript_links_are_removed() {
        let html = render(
            "<script>alert(1)</script><img src=x onerror=alert(2)> [click](javascript:alert(3)) <a href=\"https://example.org\" onclick=\"x()\">site</a>",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("onclick"), "{html}");
        assert!(!html.contains("href=\"javascript"), "{html}");
        assert!(html.contains("click"), "the link text stays: {html}");
        assert!(
            html.contains("rel=\"noopener noreferrer nofollow\""),
            "{html}"
        );
    }
}
