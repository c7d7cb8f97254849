-- Agent profiles: phone, languages, departments, helplines (issue 13).
-- Lists are space-separated codes (each checked by `accounts::agent`: no spaces inside).
CREATE TABLE agent_profiles (
    user_id BIGINT PRIMARY KEY REFERENCES users (id),
    phone TEXT,
    languages TEXT NOT NULL,
    departments TEXT NOT NULL,
    helplines TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
