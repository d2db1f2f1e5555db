-- mod_sparkgate_token: lets a sparkgate gateway sign its users in to this
-- Prosody without their password, as ejabberd's OAuth tokens do.
--
-- The gateway holds one XMPP session per user. After a TOTP or passkey
-- sign-in, after a restart, or on another gateway node, it has no
-- password to log in with: it mints a short-lived token instead and logs
-- in with SASL X-OAUTH2 (authzid NUL username NUL token). The token is
--
--   v1.<expiry, Unix seconds>.<hex HMAC-SHA256(secret, "sparkgate xmpp
--   login" NUL <username as sent>@<host> NUL <expiry>)>
--
-- with a secret the gateway and this module share (a file of at least 32
-- characters; the gateway's -prosody-token-secret-file, this module's
-- sparkgate_token_secret_file). This module offers X-OAUTH2 beside the
-- host's own mechanisms (its passwords keep working) and accepts a token
-- that is well formed, unexpired, made with the secret for that username
-- on this host, for an account that exists. Nothing is stored.
--
-- Configuration, per host (or global):
--   modules_enabled = { ...; "sparkgate_token" }
--   sparkgate_token_secret_file = "/etc/prosody/sparkgate-token.secret"
--   plugin_paths = { "/path/to/the/directory/holding/this/file" }

local registerMechanism = require "util.sasl".registerMechanism;
local hashes = require "util.hashes";
local saslprep = require "util.encodings".stringprep.saslprep;
local nodeprep = require "util.encodings".stringprep.nodeprep;
local usermanager = require "core.usermanager";

local host = module.host;

local secret_file = module:get_option_string("sparkgate_token_secret_file");
if not secret_file then
	error("sparkgate_token_secret_file is not set");
end
local secret;
do
	local f = assert(io.open(secret_file, "r"));
	-- Line ends at the end are not part of it, as for the gateway.
	secret = (f:read("*a") or ""):gsub("[\r\n]+$", "");
	f:close();
	if #secret < 32 then
		error("the secret in sparkgate_token_secret_file is shorter than 32 characters");
	end
end

-- valid tells whether token is one the gateway made for username (as the
-- client sent it) on this host, and not expired.
local function valid(username, token)
	local expiry, mac = token:match("^v1%.(%d+)%.(%x+)$");
	if not expiry or #mac ~= 64 then
		return false;
	end
	if tonumber(expiry) <= os.time() then
		return false;
	end
	local want = hashes.hmac_sha256(secret, "sparkgate xmpp login\0" .. username .. "@" .. host .. "\0" .. expiry, true);
	return hashes.equals(want, mac:lower());
end

-- x_oauth2 is the mechanism: the message as PLAIN's, a token for the
-- password. util.sasl keeps one function per mechanism for the whole
-- server, the last host's to load this module, so it names no host of
-- its own: the handler's realm is its host, and its profile's check is
-- that host's (offer).
local function x_oauth2(self, message)
	if not message then
		return "failure", "malformed-request";
	end
	local authzid, sent, token = message:match("^([^%z]*)%z([^%z]+)%z([^%z]+)$");
	if not sent then
		return "failure", "malformed-request";
	end
	local username = saslprep(sent);
	username = username and nodeprep(username);
	if not username or username == "" then
		return "failure", "malformed-request";
	end
	if authzid ~= "" and authzid ~= username .. "@" .. self.realm then
		return "failure", "invalid-authzid";
	end
	if not self.profile.sparkgate_token(sent, token) or not usermanager.user_exists(username, self.realm) then
		return "failure", "not-authorized", "Invalid token.";
	end
	self.username = username;
	return "success";
end

registerMechanism("X-OAUTH2", { "sparkgate_token" }, x_oauth2);

-- offer wraps an auth provider's SASL handlers so that each also offers
-- X-OAUTH2 with this module's check; a provider is wrapped once.
local function offer(provider)
	-- rawget: the host's provider answers any missing field with a
	-- function of the null provider's (core.usermanager).
	if not provider or rawget(provider, "sparkgate_token") then
		return;
	end
	provider.sparkgate_token = true;
	local get_sasl_handler = provider.get_sasl_handler;
	provider.get_sasl_handler = function(...)
		local handler = get_sasl_handler(...);
		handler.profile.sparkgate_token = valid;
		handler.mechs["X-OAUTH2"] = true;
		return handler;
	end
end

module:handle_items("auth-provider", function(event) offer(event.item); end, function() end, true);
offer(usermanager.get_provider(host));
module:log("info", "X-OAUTH2 logins with the gateway's tokens offered");
