#include "cache/object.h"

#include <functional>

#include "cache/response_facts.h"

namespace ballast::cache {

uint64_t Object::hash_key(std::string_view key) {
  return std::hash<std::string_view>{}(key);
}

std::shared_ptr<const Object> Object::make(Parts parts) {
  // Not make_shared: the constructor is private, and the views must be made in place.
  return std::shared_ptr<const Object>(new Object(std::move(parts)));
}

std::shared_ptr<const Object> Object::make_updated(Parts parts, int64_t request_time,
                                                   int64_t response_time, int64_t age_value) {
  auto* object = new Object(std::move(parts));
  object->parts_.freshness = stored_response_of(object->head_, request_time, response_time);
  object->parts_.freshness.age_value = age_value;
  return std::shared_ptr<const Object>(object);
}

std::shared_ptr<const Object> Object::updated_by(const Object& stored,
                                                 const http::MessageHead& update,
                                                 int64_t request_time, int64_t response_time) {
  Parts parts = stored.parts_;
  parts.fields = updated_fields(stored.parts_.fields, update);
  return make_updated(std::move(parts), request_time, response_time);
}

Object::Object(Parts parts) : parts_(std::move(parts)) {
  head_.status = parts_.status;
  head_.reason = parts_.reason;
  head_.has_content_length = true;
  head_.content_length = parts_.body.size();
  parse_field_lines(parts_.fields, head_.headers);
  hash_ = hash_key(parts_.key);
  // The strings' bytes plus a fixed estimate for the object, its views and the store's node.
  charge_ = 256 + parts_.key.size() + parts_.url.size() + parts_.variant.size() +
            parts_.fields.size() + parts_.body.size() + parts_.reason.size() +
            head_.headers.size() * sizeof(http::Header);
  for (const auto& v : parts_.vary) charge_ += v.size() + 32;
  for (const auto& t : parts_.tags) charge_ += t.size() + 32;
}

}  // namespace ballast::cache
