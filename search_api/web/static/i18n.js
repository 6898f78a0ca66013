// Korean is the default; English for visiting staff. Keys not found fall back to the key itself.
const TEXT = {
  ko: {
    title: "ANPR 관제", nav_alerts: "실시간 경보", nav_search: "차량 검색", nav_route: "이동 경로",
    nav_cameras: "카메라 상태", logout: "로그아웃", login_title: "로그인", username: "사용자 이름",
    password: "비밀번호", login: "로그인", plate_pattern: "번호판 (패턴: ? *)", from: "시작", to: "종료",
    cameras: "카메라 (쉼표 구분)", fuzzy: "오인식 허용 검색", purpose: "조회 목적", case_number: "사건 번호",
    search: "검색", pdf: "PDF 보고서", crop: "이미지", plate: "번호판", camera: "카메라", time: "시각",
    confidence: "신뢰도", ack_note: "확인 메모", cancel: "취소", ack: "확인 처리", acknowledged: "확인됨",
    open_route: "경로 보기", bad_login: "사용자 이름 또는 비밀번호가 틀렸습니다.",
    expired: "세션이 만료되었습니다. 다시 로그인하십시오.", forbidden: "이 작업을 할 권한이 없습니다.",
    unavailable: "서버에 연결할 수 없습니다. 잠시 후 다시 시도하십시오.", rate_limited: "로그인 시도가 너무 많습니다.",
    invalid: "입력값이 올바르지 않습니다", need_reason: "조회 목적(2자 이상)과 사건 번호를 입력하십시오.",
    results: "결과 {n}건", no_results: "결과가 없습니다.", live: "실시간 연결됨", reconnecting: "재연결 중…",
    match_exact: "정확 일치", match_likely: "유력 일치", match_possible: "가능 일치", up: "정상", down: "장애",
    unknown: "알 수 없음", degraded: "저하", fps: "초당 프레임", last_read: "마지막 판독", sightings: "목격 {n}건",
    exported: "내보내기 완료", need_plate: "번호판을 입력하십시오.",
    map_unavailable: "지도를 사용할 수 없습니다 (지도 라이브러리 파일 없음: scripts/setup 실행 필요). 목록은 그대로 사용할 수 있습니다.",
    timeline_hint: "항목을 누르면 지도에서 위치를 보여 줍니다.", connecting: "연결 중",
    logout_failed: "로그아웃 요청이 서버에 닿지 않았습니다. 브라우저를 닫아 세션을 끝내십시오.",
    nav_deliveries: "경보 전송", dead_letters: "전송 실패 경보 (웹훅·MQTT)", alert: "경보", target: "대상",
    attempts: "시도", last_error: "마지막 오류", retry: "다시 보내기", no_dead_letters: "전송 실패 경보가 없습니다.",
    dead_count: "전송 실패 {n}건", retried: "다시 보내도록 예약했습니다.", correct_title: "판독 정정",
    correct_plate: "올바른 번호판", correct_reason: "정정 사유", correct: "정정", wrong_read: "판독 정정",
    corrected: "정정 완료: {from} → {to}", nav_review: "판독 검토", max_confidence: "신뢰도 미만",
    load_review: "검토 목록", confirm: "맞음", review_count: "검토할 판독 {n}건", confirmed: "확인 완료: {plate}",
    scene_frame: "통과 장면",
    nav_people: "인파 감시", people_count: "현재 인원 {n}명", people_events: "인파·침입·배회 경보",
    people_none: "인파 분석 카메라가 없습니다 (anpr people-monitor 미실행).", people_stale: "분석 중단됨",
    kind_intrusion: "침입", kind_loitering: "배회", kind_density: "인파 밀집", zone: "구역",
    level_none: "정상", level_0: "관심", level_1: "주의", level_2: "경계", level_3: "심각",
    people_density: "{d}명/m²", people_no_events: "인파 경보가 없습니다.",
    webhooks: "웹훅 구독 (112·119 연계)", webhook_url: "수신 URL", webhook_secret: "서명 키 (16자 이상)",
    webhook_priorities: "우선순위", webhook_cameras: "카메라 (비우면 전체)", webhook_description: "설명",
    webhook_state: "상태", webhook_add: "구독 추가", webhook_added: "웹훅 구독을 추가했습니다.",
    webhook_all: "전체", webhook_active: "사용 중", webhook_paused: "일시 중지", webhook_pause: "중지",
    webhook_resume: "다시 사용", webhook_remove: "삭제", priority_low: "낮음", priority_medium: "보통",
    priority_high: "높음",
  },
  en: {
    title: "ANPR control room", nav_alerts: "Live alerts", nav_search: "Search", nav_route: "Route",
    nav_cameras: "Camera health", logout: "Log out", login_title: "Log in", username: "Username",
    password: "Password", login: "Log in", plate_pattern: "Plate (pattern: ? *)", from: "From", to: "To",
    cameras: "Cameras (comma-separated)", fuzzy: "OCR-tolerant search", purpose: "Purpose",
    case_number: "Case number", search: "Search", pdf: "PDF report", crop: "Image", plate: "Plate",
    camera: "Camera", time: "Time", confidence: "Confidence", ack_note: "Acknowledgement note",
    cancel: "Cancel", ack: "Acknowledge", acknowledged: "Acknowledged", open_route: "Route",
    bad_login: "Wrong username or password.", expired: "Your session has expired. Please log in again.",
    forbidden: "You are not allowed to do this.", unavailable: "The server cannot be reached. Try again shortly.",
    rate_limited: "Too many login attempts.", invalid: "Invalid input",
    need_reason: "Enter a purpose (2+ characters) and a case number.", results: "{n} results",
    no_results: "No results.", live: "Live", reconnecting: "Reconnecting…", match_exact: "exact match",
    match_likely: "likely match", match_possible: "possible match",
    up: "up", down: "down", unknown: "unknown",
    degraded: "degraded", fps: "frames/s", last_read: "last read", sightings: "{n} sightings",
    exported: "Exported", need_plate: "Enter a plate.",
    map_unavailable: "The map is unavailable (map library files missing: run scripts/setup). The lists still work.",
    timeline_hint: "Click an entry to show it on the map.", connecting: "connecting",
    logout_failed: "The logout request did not reach the server. Close the browser to end the session.",
    nav_deliveries: "Alert delivery", dead_letters: "Undelivered alerts (webhooks, MQTT)", alert: "Alert",
    target: "Destination", attempts: "Attempts", last_error: "Last error", retry: "Send again",
    no_dead_letters: "No undelivered alerts.", dead_count: "{n} undelivered", retried: "Scheduled to send again.",
    correct_title: "Correct the read", correct_plate: "Right plate", correct_reason: "Reason",
    correct: "Correct", wrong_read: "Wrong read", corrected: "Corrected: {from} → {to}",
    nav_review: "Review reads", max_confidence: "Confidence below", load_review: "Load queue", confirm: "Right",
    review_count: "{n} reads to review", confirmed: "Confirmed: {plate}",
    scene_frame: "Scene of the pass",
    nav_people: "Crowd watch", people_count: "{n} people now",
    people_events: "Crowd, intrusion and loitering alerts",
    people_none: "No people analytics camera (anpr people-monitor is not running).",
    people_stale: "analytics stopped", kind_intrusion: "Intrusion", kind_loitering: "Loitering",
    kind_density: "Crowd density", zone: "Zone", level_none: "Normal", level_0: "Attention",
    level_1: "Caution", level_2: "Alert", level_3: "Severe", people_density: "{d} people/m²",
    people_no_events: "No crowd alerts.",
    webhooks: "Webhook subscriptions (112/119 linkage)", webhook_url: "Receiver URL",
    webhook_secret: "Signing secret (16+ characters)", webhook_priorities: "Priorities",
    webhook_cameras: "Cameras (empty: all)", webhook_description: "Description", webhook_state: "State",
    webhook_add: "Subscribe", webhook_added: "Webhook subscription added.", webhook_all: "all",
    webhook_active: "active", webhook_paused: "paused", webhook_pause: "Pause", webhook_resume: "Resume",
    webhook_remove: "Remove", priority_low: "low", priority_medium: "medium", priority_high: "high",
  },
};

let language = localStorage.getItem("anpr-lang") === "en" ? "en" : "ko";

export function t(key, values = {}) {
  const text = TEXT[language][key] ?? TEXT.ko[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

export function currentLanguage() {
  return language;
}

export function setLanguage(next) {
  language = next;
  localStorage.setItem("anpr-lang", next);
  applyTranslations();
}

export function applyTranslations(root = document) {
  document.documentElement.lang = language;
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  const toggle = document.getElementById("lang");
  if (toggle) toggle.textContent = language === "ko" ? "English" : "한국어";
}
