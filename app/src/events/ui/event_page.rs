use super::price_text;
use crate::events::queries::get_event;
use crate::events::{EventDetail, EventStatus};
use crate::i18n::{Locale, Msg, fill, format_local, t, use_locale};
use leptos::prelude::*;
use leptos_meta::Title;

/// `/events/:id`: everything about one event.
#[component]
pub fn EventPage() -> impl IntoView {
    let locale = use_locale();
    let id = crate::ui::id_param();
    let event = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => get_event(id).await,
                None => Err(crate::error::AppError::NotFound),
            }
        },
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match event.await {
                    Ok(event) => view! { <EventDetailView event locale/> }.into_any(),
                    Err(e) => {
                        crate::ui::set_error_status(&e);
                        view! {
                            <Title text=t(Msg::NotFoundTitle)/>
                            <section class="panel narrow center">
                                <h1>{e.text(locale)}</h1>
                                <a class="btn btn-primary" href="/events">{t(Msg::HomeSeeAll)}</a>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// schema.org `Event` for search engines, safe to embed in a `<script>` element.
pub fn json_ld(event: &EventDetail) -> String {
    let item = &event.item;
    let status = match item.status {
        EventStatus::Cancelled => "https://schema.org/EventCancelled",
        _ => "https://schema.org/EventScheduled",
    };
    let offers: Vec<_> = event
        .ticket_types
        .iter()
        .map(|tt| {
            serde_json::json!({
                "@type": "Offer",
                "name": tt.name,
                "price": crate::events::form::format_price(tt.price.amount),
                "priceCurrency": tt.price.currency,
                "availability": if tt.remaining > 0 { "https://schema.org/InStock" } else { "https://schema.org/SoldOut" },
                "url": format!("/events/{}", item.id),
            })
        })
        .collect();
    let data = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "Event",
        "name": item.title,
        "description": item.summary,
        "startDate": item.starts_at.to_rfc3339(),
        "endDate": item.ends_at.to_rfc3339(),
        "eventStatus": status,
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "location": {
            "@type": "Place",
            "name": item.venue,
            "address": { "@type": "PostalAddress", "streetAddress": event.address, "addressLocality": item.city },
        },
        "organizer": { "@type": "Organization", "name": event.organizer.display_name },
        "offers": offers,
        "image": item.image_url,
    });
    script_json(&data.to_string())
}

/// JSON made safe inside a `<script>` element: `<`, `>` and `&` as JSON escapes, so no text
/// an organizer typed (`</script>`, `<!--`) can end the element or change how it is parsed.
pub fn script_json(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

#[component]
fn EventDetailView(event: EventDetail, locale: Locale) -> impl IntoView {
    let item = &event.item;
    let map_href = format!(
        "https://www.openstreetmap.org/search?query={}",
        format!("{} {} {}", item.venue, event.address, item.city).replace(' ', "+")
    );
    let ics_href = format!("/events/{}/calendar.ics", item.id);
    let cancelled = item.status == EventStatus::Cancelled;
    let price = price_text(item);
    // The end on the same day needs only its time.
    let end_text = if item.local_ends_at.date() == item.local_starts_at.date() {
        item.local_ends_at.format("%H:%M").to_string()
    } else {
        format_local(locale, item.local_ends_at)
    };
    // The server knows only the venue's zone; once the page runs in the browser, the same
    // instants are also shown in the viewer's zone when it differs.
    let viewer_time = RwSignal::new(None::<String>);
    let feed = crate::bookings::live::follow_seats(item.id);
    provide_context(feed);
    {
        let (starts, ends) = (item.starts_at, item.ends_at);
        let venue_start = item.local_starts_at;
        Effect::new(move |_| {
            let start = starts.with_timezone(&chrono::Local).naive_local();
            if start != venue_start {
                let end = ends.with_timezone(&chrono::Local).naive_local();
                let end = if end.date() == start.date() {
                    end.format("%H:%M").to_string()
                } else {
                    format_local(locale, end)
                };
                viewer_time.set(Some(format!("{} – {end}", format_local(locale, start))));
            }
        });
    }
    view! {
        <Title text=item.title.clone()/>
        <script type="application/ld+json" inner_html=json_ld(&event)></script>
        <article class=format!("event-page category-{}", item.category.code())>
            {item.image_url.clone().map(|url| view! {
                <img class="event-image" src=url alt=fill(t(Msg::EventImageAlt), &[("title", &item.title)])
                    width="1600" height="900"/>
            })}
            <header class="event-hero">
                <p class="event-card-category">{t(item.category.label())}
                    {(item.status != EventStatus::Published).then(|| view! { <span class="badge">{t(item.status.label())}</span> })}
                </p>
                <h1 dir="auto">{item.title.clone()}</h1>
                <p class="lead" dir="auto">{item.summary.clone()}</p>
                <crate::bookings::ui::ReactionBar event_id=item.id likes=event.likes saves=event.saves/>
            </header>
            {cancelled.then(|| view! {
                <div class="alert alert-error" role="alert">
                    <strong>{t(Msg::EventCancelled)}</strong>
                    {event.cancel_reason.clone().map(|r| view! { " " {fill(t(Msg::EventCancelReason), &[("reason", &r)])} })}
                </div>
            })}
            <div class="event-layout">
                <div class="event-main">
                    <dl class="facts">
                        <dt>{t(Msg::EventWhen)}</dt>
                        <dd>
                            <time datetime=item.starts_at.to_rfc3339()>{format_local(locale, item.local_starts_at)}</time>
                            " – "
                            <time datetime=item.ends_at.to_rfc3339()>{end_text}</time>
                            <br/><small class="muted">{fill(t(Msg::EventTimezoneNote), &[("tz", &item.timezone)])}</small>
                            {move || viewer_time.get().map(|when| view! {
                                <br/><span class="viewer-time">{fill(t(Msg::EventYourTime), &[("when", &when)])}</span>
                            })}
                        </dd>
                        <dt>{t(Msg::EventWhere)}</dt>
                        <dd>
                            {format!("{}, {}, {}", item.venue, event.address, item.city)}
                            <br/><a href=map_href rel="external noopener" target="_blank">{t(Msg::EventOpenMap)}</a>
                        </dd>
                        <dt>{t(Msg::EventOrganizer)}</dt>
                        <dd>{event.organizer.display_name.clone()}</dd>
                        <dt>{t(Msg::EventCapacity)}</dt>
                        <dd>
                            {event.capacity}
                            {event.max_seats_per_user.map(|n| view! {
                                <br/><small class="muted">{fill(t(Msg::EventMaxSeatsPerUser), &[("n", &n)])}</small>
                            })}
                        </dd>
                    </dl>
                    <h2>{t(Msg::EventAbout)}</h2>
                    // Rendered from Markdown and sanitised on the server (server/src/markdown.rs).
                    <div class="description" dir="auto" inner_html=event.description_html.clone()></div>
                </div>
                <aside class="event-side panel" aria-labelledby="tickets-title">
                    <h2 id="tickets-title">{t(Msg::EventTickets)}</h2>
                    <p class="price-big">{price}</p>
                    <ul class="ticket-types">
                        {event.ticket_types.iter().map(|tt| {
                            let price = if tt.price.amount == 0 { t(Msg::EventFree).to_owned() } else { tt.price.display() };
                            let (type_id, rendered) = (tt.id, tt.remaining);
                            view! {
                                <li>
                                    <div class="tt-row"><strong>{tt.name.clone()}</strong><span>{price}</span></div>
                                    <div class="tt-row muted">
                                        <span data-testid="seats-left" data-ticket-type=type_id.to_string()>
                                            {move || fill(t(Msg::EventTicketLeft), &[("n", &feed.type_remaining(type_id, rendered))])}
                                        </span>
                                        <span>{fill(t(Msg::EventTicketMax), &[("n", &tt.max_per_registration)])}</span>
                                    </div>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    <crate::bookings::ui::BookingPanel event=event.clone()/>
                    <a class="btn btn-ghost btn-block" href=ics_href rel="external" download="">{t(Msg::EventAddToCalendar)}</a>
                </aside>
            </div>
        </article>
    }
}

#[cfg(test)]
mod tests {
    use super::script_json;

    #[test]
    fn json_ld_cannot_close_its_script_element() {
        let typed = serde_json::json!({"name": "</script><script>alert(1)</script> & <!--"});
        let safe = script_json(&typed.to_string());
        assert!(!safe.contains('<') && !safe.contains('>') && !safe.contains('&'));
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, typed);
    }
}
