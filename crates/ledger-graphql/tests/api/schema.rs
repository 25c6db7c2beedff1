//! The committed SDL matches the code (`UPDATE_SCHEMAS=1` rewrites it).

const SDL_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../schemas/graphql/schema.graphql"
);

#[test]
fn graphql_schema_is_committed() {
    let sdl = ledger_graphql::sdl();
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::create_dir_all(
            std::path::Path::new(SDL_PATH)
                .parent()
                .expect("the path has a parent"),
        )
        .expect("create schemas/graphql");
        std::fs::write(SDL_PATH, &sdl).expect("write the SDL");
        return;
    }
    let committed = std::fs::read_to_string(SDL_PATH).unwrap_or_default();
    assert!(
        committed == sdl,
        "schemas/graphql/schema.graphql differs from the schema the code builds; run `make schema` and commit the result"
    );
}
