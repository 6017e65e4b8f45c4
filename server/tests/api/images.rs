//! Event images: accepted by content, refused with a clear error and nothing stored, re-encoded
//! without metadata, served with long cache headers, replaced images deleted; Cloudinary through
//! a fake server on loopback.
use super::{Reply, TestApp};
use crate::common::Engine;
use crate::on_both_engines;
use app::auth::Role;
use axum::http::{Method, StatusCode, header};
use image::{ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use serde_json::{Value, json};
use std::io::Cursor;
use std::sync::{Arc, Mutex};

fn picture(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, 120])
    })
}

fn encoded(format: ImageFormat, width: u32, height: u32) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    match format {
        // PNG with transparency, to check it is laid on white.
        ImageFormat::Png => {
            RgbaImage::from_fn(width, height, |x, _| Rgba([200, 30, 30, (x % 256) as u8]))
                .write_to(&mut out, format)
        }
        _ => picture(width, height).write_to(&mut out, format),
    }
    .expect("encode test image");
    out.into_inner()
}

/// A JPEG carrying an EXIF block (camera metadata) right after its start marker.
fn jpeg_with_exif() -> Vec<u8> {
    let jpeg = encoded(ImageFormat::Jpeg, 640, 480);
    // "MM" TIFF header, first IFD at 8 with no entries, and a recognisable maker string.
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0\0\0\0\0SECRET-GPS-LOCATION".to_vec();
    let len = (exif.len() + 2) as u16;
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.append(&mut exif);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A valid PNG whose header claims a 30,000 × 30,000 canvas: a few hundred bytes that would
/// need gigabytes once decoded.
fn bomb() -> Vec<u8> {
    let mut png = encoded(ImageFormat::Png, 120, 120);
    // IHDR data starts at byte 16: width, height (big-endian), then its CRC after 13 bytes.
    png[16..20].copy_from_slice(&30_000u32.to_be_bytes());
    png[20..24].copy_from_slice(&30_000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

async fn draft(app: &TestApp, auth: &str) -> String {
    let start = chrono::Utc::now() + chrono::Duration::days(7);
    let body = json!({
        "title": "Poster night", "summary": "s", "description": "d", "category": "music",
        "tags": [], "starts_at": start, "ends_at": start + chrono::Duration::hours(2),
        "timezone": "Europe/Warsaw", "venue": "Hall", "address": "", "city": "Kraków", "capacity": 50,
        "ticket_types": [{"name": "General", "price": {"amount": 0, "currency": "PLN"}, "quantity": 50, "max_per_registration": 4}]
    });
    let reply = app
        .call(Method::POST, "/api/v1/events", Some(body), Some(auth))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()["event"]["id"].as_str().unwrap().to_owned()
}

async fn put_image(
    app: &TestApp,
    id: &str,
    content_type: &str,
    bytes: Vec<u8>,
    auth: Option<&str>,
) -> Reply {
    app.send_bytes(
        Method::PUT,
        &format!("/api/v1/events/{id}/image"),
        content_type,
        bytes,
        auth,
    )
    .await
}

async fn image_of(app: &TestApp, id: &str, auth: &str) -> Value {
    app.call(
        Method::GET,
        &format!("/api/v1/events/{id}"),
        None,
        Some(auth),
    )
    .await
    .json()["event"]["image_url"]
        .clone()
}

fn stored_files(app: &TestApp) -> Vec<String> {
    let dir = app.state.config.data_dir.join("media");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

on_both_engines! {
    async fn png_jpeg_and_webp_are_stored_re_encoded_and_served_with_long_cache(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, auth) = app.bearer(Role::Agent).await;
        let id = draft(&app, &auth).await;

        for (format, content_type) in [(ImageFormat::Png, "image/png"), (ImageFormat::WebP, "image/webp"), (ImageFormat::Jpeg, "image/jpeg")] {
            let reply = put_image(&app, &id, content_type, encoded(format, 2400, 1200), Some(&auth)).await;
            assert_eq!(reply.status, StatusCode::OK, "{format:?}: {}", reply.body);
            let url = reply.json()["image_url"].as_str().unwrap().to_owned();
            assert!(url.starts_with("/media/") && url.ends_with(".jpg"), "{url}");
            assert_eq!(image_of(&app, &id, &auth).await, json!(url));

            let served = app.get(&url, &[]).await;
            assert_eq!(served.status, StatusCode::OK);
            assert_eq!(served.headers[header::CONTENT_TYPE], "image/jpeg");
            assert!(served.headers[header::CACHE_CONTROL].to_str().unwrap().contains("immutable"));
            // Re-encoded and scaled down to fit 1600 px; the card size fits 640.
            let path = app.state.config.data_dir.join("media").join(url.trim_start_matches("/media/"));
            let large = image::open(&path).unwrap();
            assert_eq!((large.width(), large.height()), (1600, 800));
            let small = image::open(path.with_file_name(app::events::image_small_url(&url).trim_start_matches("/media/"))).unwrap();
            assert_eq!((small.width(), small.height()), (640, 320));
        }
        // Each upload replaced the one before: only the last image's two files remain.
        assert_eq!(stored_files(&app).len(), 2, "{:?}", stored_files(&app));
    }

    async fn metadata_is_stripped(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, auth) = app.bearer(Role::Agent).await;
        let id = draft(&app, &auth).await;
        let original = jpeg_with_exif();
        assert!(original.windows(6).any(|w| w == b"Exif\0\0"));
        let reply = put_image(&app, &id, "image/jpeg", original, Some(&auth)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        for name in stored_files(&app) {
            let bytes = std::fs::read(app.state.config.data_dir.join("media").join(&name)).unwrap();
            assert!(!bytes.windows(6).any(|w| w == b"Exif\0\0"), "{name} keeps EXIF");
            assert!(!bytes.windows(6).any(|w| w == b"SECRET"), "{name} keeps metadata");
        }
    }

    async fn bad_files_are_refused_with_a_clear_error_and_nothing_is_stored(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, auth) = app.bearer(Role::Agent).await;
        let id = draft(&app, &auth).await;
        let png = encoded(ImageFormat::Png, 800, 600);
        let mut six_mb = encoded(ImageFormat::Png, 800, 600);
        six_mb.resize(6 * 1024 * 1024, 0);
        let cases: Vec<(&str, &str, Vec<u8>, StatusCode, &str)> = vec![
            ("a text file named .png", "image/png", b"just some notes, not a picture\n".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "Choose a JPEG, PNG or WebP image."),
            ("a truncated PNG", "image/png", png[..png.len() / 2].to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "This image is damaged or incomplete; it could not be read."),
            ("HTML sent as image/png", "image/png", b"<!doctype html><script>alert(1)</script>".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "Choose a JPEG, PNG or WebP image."),
            ("a decompression bomb", "image/png", bomb(), StatusCode::UNPROCESSABLE_ENTITY, "The image must be between 100 and 8000 pixels on each side."),
            ("a tiny image", "image/png", encoded(ImageFormat::Png, 40, 40), StatusCode::UNPROCESSABLE_ENTITY, "The image must be between 100 and 8000 pixels on each side."),
            ("an SVG", "image/svg+xml", b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "Choose a JPEG, PNG or WebP image."),
        ];
        for (what, content_type, bytes, status, message) in cases {
            let reply = put_image(&app, &id, content_type, bytes, Some(&auth)).await;
            assert_eq!(reply.status, status, "{what}: {}", reply.body);
            let body = reply.json();
            assert_eq!(body["error"]["kind"], "invalid", "{what}");
            assert_eq!(body["error"]["fields"]["image"], message, "{what}");
        }
        let too_big = put_image(&app, &id, "image/png", six_mb, Some(&auth)).await;
        assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", too_big.body);
        assert_eq!(too_big.json()["error"]["kind"], "payload_too_large");

        assert_eq!(image_of(&app, &id, &auth).await, Value::Null);
        assert!(stored_files(&app).is_empty(), "{:?}", stored_files(&app));
    }

    async fn only_the_organizer_or_an_admin_may_set_the_image(engine: Engine) {
        let app = TestApp::new(engine).await;
        let (_, owner) = app.bearer(Role::Agent).await;
        let (_, other) = app.bearer(Role::Agent).await;
        let (_, user) = app.bearer(Role::User).await;
        let (_, admin) = app.bearer(Role::Admin).await;
        let id = draft(&app, &owner).await;
        let png = || encoded(ImageFormat::Png, 300, 200);
        assert_eq!(put_image(&app, &id, "image/png", png(), None).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(put_image(&app, &id, "image/png", png(), Some(&user)).await.status, StatusCode::FORBIDDEN);
        assert_eq!(put_image(&app, &id, "image/png", png(), Some(&other)).await.status, StatusCode::NOT_FOUND);
        assert!(stored_files(&app).is_empty());
        assert_eq!(put_image(&app, &id, "image/png", png(), Some(&owner)).await.status, StatusCode::OK);
        assert_eq!(put_image(&app, &id, "image/png", png(), Some(&admin)).await.status, StatusCode::OK);
        assert_eq!(put_image(&app, "999999", "image/png", png(), Some(&admin)).await.status, StatusCode::NOT_FOUND);
    }

    async fn the_no_script_form_uploads_and_comes_back_to_the_edit_page(engine: Engine) {
        use app::events::commands::UploadEventImage;
        use leptos::server_fn::ServerFn;
        let app = TestApp::new(engine).await;
        app.register("poster@example.com", "granite-lily-42", "Poster").await;
        sqlx_promote(&app, "poster@example.com").await;
        let signed_in = app.server_fn(app::auth::commands::SignIn::PATH, &[("email", "poster@example.com"), ("password", "granite-lily-42")], None).await;
        let cookie = signed_in.cookie(server::sessions::SESSION_COOKIE).expect("session");
        let token = app.token("poster@example.com", "granite-lily-42").await.json()["access_token"].as_str().unwrap().to_owned();
        let id = draft(&app, &format!("Bearer {token}")).await;

        let post = |bytes: Vec<u8>| {
            let boundary = "----eventhub-test-boundary";
            let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\n{id}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"poster.png\"\r\nContent-Type: image/png\r\n\r\n").into_bytes();
            body.extend_from_slice(&bytes);
            body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
            axum::http::Request::post(UploadEventImage::PATH)
                .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
                .header(header::ACCEPT, "text/html")
                .header(header::REFERER, format!("http://127.0.0.1/agent/events/{id}/edit"))
                .header(header::COOKIE, format!("{}={cookie}", server::sessions::SESSION_COOKIE))
                .body(axum::body::Body::from(body))
                .unwrap()
        };
        let refused = app.send(post(b"not an image".to_vec())).await;
        assert!(refused.status.is_redirection(), "{} {}", refused.status, refused.body);
        let location = refused.headers[header::LOCATION].to_str().unwrap();
        assert!(location.contains(&format!("/agent/events/{id}/edit")) && location.contains("__err="), "{location}");
        let page = app.get(location.trim_start_matches("http://127.0.0.1"), &[("cookie", &format!("{}={cookie}", server::sessions::SESSION_COOKIE))]).await;
        assert!(page.body.contains("Choose a JPEG, PNG or WebP image."), "{}", page.body);

        let saved = app.send(post(encoded(ImageFormat::Png, 400, 300))).await;
        assert!(saved.status.is_redirection(), "{} {}", saved.status, saved.body);
        assert_eq!(saved.headers[header::LOCATION], format!("/agent/events/{id}/edit?image=saved"));
        let page = app.get(&format!("/agent/events/{id}/edit?image=saved"), &[("cookie", &format!("{}={cookie}", server::sessions::SESSION_COOKIE))]).await;
        assert!(page.body.contains("The image is saved."), "{}", page.body);
        assert!(page.body.contains("class=\"image-preview\""));
    }
}

async fn sqlx_promote(app: &TestApp, email: &str) {
    server::on_db!(&app.state.db, pool => sqlx::query("UPDATE users SET role = 'agent' WHERE email = $1").bind(email).execute(pool).await.map(|_| ()))
        .expect("promote");
}

/// The multipart fields of one request: name and bytes.
type Fields = Vec<(String, Vec<u8>)>;

/// What the fake Cloudinary server saw: each request's path and fields.
#[derive(Default)]
struct Seen {
    requests: Vec<(String, Fields)>,
}

/// A fake Cloudinary API on loopback: answers uploads with a made-up asset (or `fail_with`).
async fn fake_cloudinary(fail_with: Option<StatusCode>) -> (String, Arc<Mutex<Seen>>) {
    use axum::extract::{Path, Request};
    let seen = Arc::new(Mutex::new(Seen::default()));
    let record = seen.clone();
    let handler = move |Path((cloud, action)): Path<(String, String)>, req: Request| {
        let record = record.clone();
        async move {
            let boundary = req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(|ct| multer::parse_boundary(ct).ok())
                .expect("multipart request");
            let mut form = multer::Multipart::new(req.into_body().into_data_stream(), boundary);
            let mut fields = Vec::new();
            while let Some(field) = form.next_field().await.unwrap() {
                let name = field.name().unwrap_or_default().to_owned();
                fields.push((name, field.bytes().await.unwrap().to_vec()));
            }
            let n = {
                let mut seen = record.lock().unwrap();
                seen.requests.push((format!("{cloud}/{action}"), fields));
                seen.requests.len()
            };
            if let Some(status) = fail_with {
                return (status, axum::Json(json!({"error": {"message": "boom"}})));
            }
            (
                StatusCode::OK,
                axum::Json(json!({
                    "public_id": format!("eventhub/events/asset{n}"),
                    "secure_url": format!("https://res.cloudinary.com/{cloud}/image/upload/v1/eventhub/events/asset{n}.jpg"),
                    "result": "ok",
                })),
            )
        }
    };
    let router =
        axum::Router::new().route("/v1_1/{cloud}/image/{action}", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, seen)
}

fn field<'a>(fields: &'a Fields, name: &str) -> &'a [u8] {
    &fields
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no field {name}"))
        .1
}

fn text(fields: &Fields, name: &str) -> String {
    String::from_utf8(field(fields, name).to_vec()).unwrap()
}

fn cloudinary(api: &str) -> impl FnOnce(&mut server::config::Config) {
    let account =
        server::config::Cloudinary::parse("cloudinary://key123:shh-secret@democloud", api).unwrap();
    move |config| config.cloudinary = Some(account)
}

on_both_engines! {
    async fn cloudinary_receives_a_correctly_signed_upload_and_the_replaced_image_is_destroyed(engine: Engine) {
        let (api, seen) = fake_cloudinary(None).await;
        let app = TestApp::with_config(engine, cloudinary(&api)).await;
        let (_, auth) = app.bearer(Role::Agent).await;
        let id = draft(&app, &auth).await;

        let first = put_image(&app, &id, "image/jpeg", encoded(ImageFormat::Jpeg, 800, 450), Some(&auth)).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        assert_eq!(first.json()["image_url"], "https://res.cloudinary.com/democloud/image/upload/v1/eventhub/events/asset1.jpg");
        {
            let seen = seen.lock().unwrap();
            let (path, fields) = &seen.requests[0];
            assert_eq!(path, "democloud/upload");
            assert_eq!(text(fields, "api_key"), "key123");
            let timestamp = text(fields, "timestamp");
            let age = chrono::Utc::now().timestamp() - timestamp.parse::<i64>().unwrap();
            assert!((0..60).contains(&age), "{timestamp}");
            let folder = text(fields, "folder");
            // Computed here by hand from Cloudinary's rule, independently of the server's code.
            let expected = {
                use sha1::{Digest, Sha1};
                let digest = Sha1::digest(format!("folder={folder}&timestamp={timestamp}shh-secret"));
                digest.iter().map(|b| format!("{b:02x}")).collect::<String>()
            };
            assert_eq!(text(fields, "signature"), expected);
            assert!(field(fields, "file").starts_with(&[0xFF, 0xD8]), "a JPEG is sent");
            assert!(!app.state.config.data_dir.join("media").exists() || stored_files(&app).is_empty());
        }

        let second = put_image(&app, &id, "image/png", encoded(ImageFormat::Png, 800, 450), Some(&auth)).await;
        assert_eq!(second.status, StatusCode::OK, "{}", second.body);
        let seen = seen.lock().unwrap();
        let (path, fields) = &seen.requests[2];
        assert_eq!(path, "democloud/destroy");
        assert_eq!(text(fields, "public_id"), "eventhub/events/asset1");
        let timestamp = text(fields, "timestamp");
        assert_eq!(
            text(fields, "signature"),
            server::config::Cloudinary::sign(&[("public_id", "eventhub/events/asset1"), ("timestamp", &timestamp)], "shh-secret")
        );
    }

    async fn a_cloudinary_failure_is_a_clear_error_and_the_event_is_unchanged(engine: Engine) {
        let (api, _) = fake_cloudinary(Some(StatusCode::INTERNAL_SERVER_ERROR)).await;
        let app = TestApp::with_config(engine, cloudinary(&api)).await;
        let (_, auth) = app.bearer(Role::Agent).await;
        let id = draft(&app, &auth).await;
        let reply = put_image(&app, &id, "image/jpeg", encoded(ImageFormat::Jpeg, 800, 450), Some(&auth)).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{}", reply.body);
        assert_eq!(reply.json()["error"]["kind"], "unavailable");
        assert_eq!(reply.json()["error"]["message"], "The image service is not answering. Nothing was changed; please try again in a minute.");
        assert_eq!(image_of(&app, &id, &auth).await, Value::Null);

        // Nobody listening at all: the same answer.
        let app = TestApp::with_config(engine, cloudinary("http://127.0.0.1:9")).await;
        let (_, auth) = app.bearer(Role::Agent).await;
        let id = draft(&app, &auth).await;
        let reply = put_image(&app, &id, "image/jpeg", encoded(ImageFormat::Jpeg, 800, 450), Some(&auth)).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{}", reply.body);
        assert_eq!(image_of(&app, &id, &auth).await, Value::Null);
    }
}
