//! `/assistant` (conversations, the chat, the answer streaming in, event cards with a register
//! button) and the compact panel on the home page. The question form is a plain form posting
//! to the server function: without scripts the server answers in full and shows the
//! conversation; with scripts the page files the question and follows the answer as it streams.
use super::commands::{AskAssistant, DeleteConversation};
use super::queries::get_assistant;
use super::{AssistantView, ChatMessage, ConversationId, MessageId, Recommendation, Speaker};
use crate::bookings::commands::BookSeats;
use crate::events::ui::EventCard;
use crate::i18n::{Msg, fill, t, use_locale};
use crate::ui::form::form_error;
use crate::ui::layout::use_auth;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

/// Bumped when the open conversation changed (a question filed, an answer finished).
#[derive(Clone, Copy)]
struct Refresh(RwSignal<u32>);

#[component]
pub fn AssistantPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let refresh = RwSignal::new(0u32);
    provide_context(Refresh(refresh));
    let view_data = Resource::new(
        move || {
            let q = query.read();
            (
                q.get("c").and_then(|c| c.parse::<ConversationId>().ok()),
                q.get("new").is_some(),
                refresh.get(),
            )
        },
        |(c, new, _)| get_assistant(c, new),
    );
    view! {
        <Title text=t(Msg::AssistantTitle)/>
        <section class="page-head">
            <h1>{t(Msg::AssistantTitle)}</h1>
            <p class="muted">{t(Msg::AssistantLead)}</p>
        </section>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match view_data.await {
                    Err(e) => crate::ui::refusal(e, "/assistant", Msg::AssistantSignIn, locale),
                    Ok(AssistantView { conversations, current }) => {
                        let current_id = current.as_ref().map(|c| c.id);
                        view! {
                            <div class="assistant-layout">
                                <aside class="panel assistant-conversations" aria-labelledby="conversations-title">
                                    <h2 id="conversations-title">{t(Msg::AssistantConversations)}</h2>
                                    <a class="btn btn-ghost btn-sm" href="/assistant?new=true">{t(Msg::AssistantNew)}</a>
                                    {if conversations.is_empty() {
                                        view! { <p class="muted">{t(Msg::AssistantNoConversations)}</p> }.into_any()
                                    } else {
                                        view! {
                                            <ul class="conversation-list">
                                                {conversations.into_iter().map(|c| {
                                                    let here = Some(c.id) == current_id;
                                                    view! {
                                                        <li><a href=format!("/assistant?c={}", c.id) dir="auto"
                                                            aria-current=here.then_some("page")>{c.title}</a></li>
                                                    }
                                                }).collect_view()}
                                            </ul>
                                        }.into_any()
                                    }}
                                </aside>
                                <div class="assistant-chat">
                                    {match current {
                                        Some(conversation) => view! {
                                            <ol class="chat-log" aria-live="polite">
                                                {conversation.messages.into_iter().map(|m| view! { <Message message=m/> }).collect_view()}
                                            </ol>
                                        }.into_any(),
                                        None => view! { <p class="panel muted chat-empty">{t(Msg::AssistantEmpty)}</p> }.into_any(),
                                    }}
                                    <AskForm conversation_id=current_id compact=false/>
                                    {current_id.map(|id| view! { <DeleteForm id/> })}
                                </div>
                            </div>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn Message(message: ChatMessage) -> impl IntoView {
    match message.speaker {
        Speaker::User => {
            let pending = message.pending.then_some(message.id);
            view! {
                <li class="chat-message chat-user">
                    <p class="chat-who">{t(Msg::AssistantYou)}</p>
                    <p class="chat-text" dir="auto">{message.content}</p>
                </li>
                {pending.map(|id| view! { <ReplyStream id/> })}
            }
            .into_any()
        }
        Speaker::Assistant => view! {
            <li class="chat-message chat-assistant" data-testid="assistant-reply">
                <p class="chat-who">
                    {t(Msg::AssistantName)}
                    {message.fallback.then(|| view! { <span class="badge badge-muted">{t(Msg::AssistantOfflineBadge)}</span> })}
                    {message.model.map(|model| view! { <span class="muted small">{fill(t(Msg::AssistantModel), &[("model", &model)])}</span> })}
                </p>
                <p class="chat-text" dir="auto">{message.content}</p>
                <Cards cards=message.recommendations/>
            </li>
        }
        .into_any(),
    }
}

#[component]
fn Cards(cards: Vec<Recommendation>) -> impl IntoView {
    (!cards.is_empty()).then(|| {
        view! {
            <div class="event-grid recommendations">
                {cards.into_iter().map(|card| view! { <RecommendationCard card/> }).collect_view()}
            </div>
        }
    })
}

/// An event card with one-click registration: one seat of the cheapest type on sale (the
/// event page then shows the booking), or the waitlist when it is full.
#[component]
fn RecommendationCard(card: Recommendation) -> impl IntoView {
    let book = ServerAction::<BookSeats>::new();
    let waitlist = card.waitlist();
    let event_id = card.event.id;
    let ticket_type = card.ticket_type;
    view! {
        <div class="recommendation" data-testid="recommendation">
            <EventCard item=card.event/>
            {card.reason.map(|reason| view! {
                <p class="recommendation-reason" dir="auto" data-testid="recommendation-reason">{reason}</p>
            })}
            <div class="recommendation-actions">
                <ActionForm action=book attr:class="inline-form">
                    <input type="hidden" name="event_id" value=event_id.to_string()/>
                    <input type="hidden" name="ticket_type_id" value=ticket_type.to_string()/>
                    <input type="hidden" name="quantity" value="1"/>
                    <button class="btn btn-primary btn-sm" type="submit" disabled=move || book.pending().get()>
                        {if waitlist { t(Msg::AssistantJoinWaitlist) } else { t(Msg::AssistantRegister) }}
                    </button>
                </ActionForm>
            </div>
        </div>
    }
}

/// The answer to a pending question as it is written (`/assistant/replies/{id}`); when it is
/// done the conversation is read again and shows it with its cards.
#[component]
fn ReplyStream(id: MessageId) -> impl IntoView {
    let (text, set_text) = signal(String::new());
    let (failed, set_failed) = signal(false);
    // The matching events, shown as soon as retrieval found them.
    let (cards, set_cards) = signal(Vec::<Recommendation>::new());
    let (slow, set_slow) = signal(false);
    let refresh = use_context::<Refresh>();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use super::stream::{CARDS, DELTA, DONE, FAILED, RESTART, SLOW};
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;
        let Ok(source) = web_sys::EventSource::new(&format!("/assistant/replies/{id}")) else {
            set_failed.set(true);
            return;
        };
        let on_delta =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                if let Some(piece) = e
                    .data()
                    .as_string()
                    .and_then(|d| serde_json::from_str::<String>(&d).ok())
                {
                    set_text.update(|t| t.push_str(&piece));
                }
            });
        let on_restart =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |_: web_sys::MessageEvent| {
                set_text.set(String::new());
            });
        let on_cards =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                if let Some(found) = e
                    .data()
                    .as_string()
                    .and_then(|d| serde_json::from_str::<Vec<Recommendation>>(&d).ok())
                {
                    set_cards.set(found);
                }
            });
        let on_slow =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |_: web_sys::MessageEvent| {
                set_slow.set(true);
            });
        let closer = source.clone();
        let on_done =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |_: web_sys::MessageEvent| {
                closer.close();
                if let Some(Refresh(r)) = refresh {
                    r.update(|n| *n += 1);
                }
            });
        let closer = source.clone();
        let on_failed = Closure::<dyn Fn(web_sys::Event)>::new(move |_: web_sys::Event| {
            closer.close();
            set_failed.set(true);
        });
        // The browser reconnects by itself after a dropped connection (the server then sends the
        // stored answer); only a refused stream ends here.
        let watched = source.clone();
        let on_error = Closure::<dyn Fn(web_sys::Event)>::new(move |_: web_sys::Event| {
            if watched.ready_state() == web_sys::EventSource::CLOSED {
                set_failed.set(true);
            }
        });
        let _ = source.add_event_listener_with_callback("error", on_error.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback(DELTA, on_delta.as_ref().unchecked_ref());
        let _ =
            source.add_event_listener_with_callback(RESTART, on_restart.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback(DONE, on_done.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback(FAILED, on_failed.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback(CARDS, on_cards.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback(SLOW, on_slow.as_ref().unchecked_ref());
        let held = send_wrapper::SendWrapper::new((
            source,
            (on_delta, on_restart, on_cards, on_slow),
            on_done,
            on_failed,
        ));
        on_cleanup(move || held.take().0.close());
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (id, set_text, set_failed, refresh, set_cards, set_slow);
    view! {
        <li class="chat-message chat-assistant chat-pending" data-testid="assistant-streaming" aria-busy="true">
            <p class="chat-who">{t(Msg::AssistantName)}</p>
            {move || if failed.get() {
                view! { <p class="alert alert-error" role="alert">{t(Msg::AssistantFailed)}</p> }.into_any()
            } else if text.with(String::is_empty) {
                view! { <p class="chat-text muted">{t(Msg::AssistantAsking)}</p> }.into_any()
            } else {
                view! { <p class="chat-text" dir="auto">{move || text.get()}</p> }.into_any()
            }}
            {move || (slow.get() && !failed.get()).then(|| view! {
                <p class="muted small" role="status" data-testid="assistant-slow">{t(Msg::AssistantSlow)}</p>
            })}
            {move || {
                let found = cards.get();
                (!found.is_empty()).then(|| view! {
                    <p class="chat-who small">{t(Msg::AssistantMatchingNow)}</p>
                    <Cards cards=found/>
                })
            }}
        </li>
    }
}

/// The question form. With scripts it files the question and opens the conversation, where
/// the answer streams in; without, the browser posts it and the server answers in full.
#[component]
fn AskForm(conversation_id: Option<ConversationId>, compact: bool) -> impl IntoView {
    let locale = use_locale();
    let ask = ServerAction::<AskAssistant>::new();
    let error = form_error(
        move || ask.value().get().map(|r| r.map(|_| ())),
        <AskAssistant as ServerFn>::PATH,
    );
    let message = NodeRef::<leptos::html::Textarea>::new();
    let refresh = use_context::<Refresh>();
    let navigate = use_navigate();
    let query = use_query_map();
    Effect::new(move |_| {
        if let Some(Ok(asked)) = ask.value().get() {
            if let Some(area) = message.get_untracked() {
                area.set_value("");
            }
            let open = query.with_untracked(|q| q.get("c"));
            if open == Some(asked.conversation_id.to_string()) {
                // Same address: the page's read is keyed on it, so ask for it again.
                if let Some(Refresh(r)) = refresh {
                    r.update(|n| *n += 1);
                }
            } else {
                navigate(
                    &format!("/assistant?c={}", asked.conversation_id),
                    Default::default(),
                );
            }
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(area) = message.get_untracked() else {
            return;
        };
        ask.dispatch(AskAssistant {
            message: area.value(),
            conversation_id,
        });
    };
    let id = if compact {
        "assistant-question-home"
    } else {
        "assistant-question"
    };
    let class = if compact {
        "ask-form ask-form-compact"
    } else {
        "panel ask-form"
    };
    let rows = if compact { "2" } else { "3" };
    let path = <AskAssistant as ServerFn>::PATH;
    view! {
        <form class=class method="post" action=path on:submit=on_submit>
            {conversation_id.map(|c| view! { <input type="hidden" name="conversation_id" value=c.to_string()/> })}
            <label for=id>{t(Msg::AssistantQuestionLabel)}</label>
            <textarea id=id name="message" node_ref=message rows=rows maxlength=super::QUESTION_MAX.to_string()
                required placeholder=t(Msg::AssistantPlaceholder) dir="auto"></textarea>
            {move || error.get().map(|e| {
                let text = e.field_errors().values().next().map(|p| p.text(locale)).unwrap_or_else(|| e.text(locale));
                view! { <p class="alert alert-error" role="alert">{text}</p> }
            })}
            <button class="btn btn-primary" type="submit" disabled=move || ask.pending().get()>
                {move || if ask.pending().get() { t(Msg::AssistantAsking) } else { t(Msg::AssistantAsk) }}
            </button>
        </form>
    }
}

#[component]
fn DeleteForm(id: ConversationId) -> impl IntoView {
    let delete = ServerAction::<DeleteConversation>::new();
    view! {
        <ActionForm action=delete attr:class="inline-form assistant-delete">
            <input type="hidden" name="id" value=id.to_string()/>
            <button class="btn btn-ghost btn-sm" type="submit">{t(Msg::AssistantDelete)}</button>
        </ActionForm>
    }
}

/// The home page's compact assistant: the question form for signed-in people, a sign-in link
/// for visitors.
#[component]
pub fn AssistantPanel() -> impl IntoView {
    let auth = use_auth();
    view! {
        <section class="panel assistant-panel" aria-labelledby="assistant-panel-title">
            <h2 id="assistant-panel-title">{t(Msg::AssistantPanelTitle)}</h2>
            <p class="muted">{t(Msg::AssistantPanelLead)}</p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match auth.user.await {
                        Ok(Some(_)) => view! {
                            <AskForm conversation_id=None compact=true/>
                            <a class="small" href="/assistant">{t(Msg::AssistantOpen)}</a>
                        }.into_any(),
                        _ => view! { <a class="btn btn-ghost" href="/login?next=/assistant">{t(Msg::AssistantSignIn)}</a> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
