"""The rules backend's vocabulary: true synonyms gated by part of speech, and the framings.

A synonym is allowed only where it keeps the picture *and* the words a reader would check the picture by. Each
entry is a word *in one inflected form* with the part-of-speech tags it may have (spaCy's fine-grained tags: ``JJ``
adjective, ``NN``/``NNS`` noun, ``RB`` adverb, ``IN`` preposition; ``PRE`` an ``-ing`` word right before its
noun, which otherwise names a kind and stays: "flying cars", but "gleaming armor" = "shining armor") and
alternatives in the same form, so a substitution never breaks grammar and never fires on another sense ("light"
the noun is not "light" the adjective).
An entry may also name the head nouns it is limited to (``soft`` → "diffused" only for a light, never for fur).

What is deliberately absent: ages, genders, numbers, colours and directions (the validator would reject them
anyway), art media and trained quality tags (they are what a model was trained on), the nouns and verbs that
carry the picture — a kitchen is never a galley, a table never a desk, "playing" never "toying" — and the
adjectives that describe it physically (size, light, material: "giant", "glowing", "wooden"). What varies:
words of mood and judgement ("eerie" → "uncanny", "tired" → "weary"), weather adjectives said with their own
noun ("rainy" → "rain-soaked"), a few plain-English noun twins every reader treats as the same thing
(woman/lady, sofa/couch, woods/forest), used sparingly (:data:`NOUN_RATE`), and a few verb twins that name the
same action (shouting/yelling, repairing/fixing) or the same motion of the same stuff
(steam rising/curling, syrup dripping/trickling, a cape billowing/fluttering, light piercing/cutting through).
Which adjectives a reader checks the picture by was measured, not guessed: words the annotated prompt sets list
as must-keep in more than about one prompt in ten ("glowing", "abandoned", "frozen", "tiny", "dark", "wet")
stay, and so do the verbs they list only in their own forms ("floating", "drifting", "wearing").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

# What floats or drifts (a car drifting on a road does neither): the heads of "floating" <-> "drifting".
_AFLOAT = (
    "astronaut,astronauts,cosmonaut,diver,swimmer,man,woman,girl,boy,person,cat,dog,balloon,balloons,lantern,"
    "lanterns,boat,boats,raft,leaf,leaves,petals,feather,feathers,cloud,clouds,jellyfish,bubble,bubbles,iceberg,"
    "ice,bottle,ship,airship,airships,blimp,zeppelin,spaceship,spacecraft,satellite,debris,snowflakes,embers,orbs,orb,candles,books,jellyfishes"
)

# What soars when it flies (a fly or a flying car does not).
_FLIERS = (
    "bird,birds,eagle,eagles,hawk,hawks,falcon,falcons,raven,ravens,crow,crows,seagull,seagulls,gull,gulls,owl,"
    "owls,dragon,dragons,phoenix,griffin,wyvern,albatross,condor,vulture,vultures,swan,swans,geese,crane,cranes,"
    "pegasus,angel,angels,kite,kites,glider,hang-glider"
)

# Cloth that billows or flutters in the wind.
_CLOTH = "cape,cloak,flag,flags,scarf,curtains,curtain,dress,skirt,banner,banners,sails,sail,robes,robe,coat,veil"
# What is clean when it is spotless ("clean line art" is crisp, never "spotless").
_TIDIED = (
    "room,kitchen,floor,floors,table,desk,house,bathroom,bedroom,office,counter,countertop,apartment,car,dishes,"
    "sheets,shirt,laundry,windows,street,streets,workshop,lab,laboratory"
)
# Light that pierces, streams or pours.
_RAYS = "rays,ray,beams,beam,light,sunlight,sunbeams,shafts,spotlight,moonlight,sunrays,lights"

# word/TAGS[@head,head…]: alternative | alternative   (a word on several lines with the same alternatives: the
# head lists add up)
_RAW = f"""
beautiful/JJ: lovely | gorgeous
pretty/JJ: lovely
lovely/JJ: beautiful | charming
gorgeous/JJ: stunning | beautiful
stunning/JJ: gorgeous | breathtaking
moody/JJ: atmospheric | brooding
atmospheric/JJ: moody
cinematic/JJ: filmic | film-like
tired/JJ: weary | exhausted
weary/JJ: tired
happy/JJ: cheerful | joyful
joyful/JJ: happy | cheerful
cheerful/JJ: happy | upbeat
sad/JJ: unhappy | sorrowful
melancholy/JJ: wistful | sorrowful
angry/JJ: furious | irate
calm/JJ: serene | tranquil
quiet/JJ: peaceful
peaceful/JJ: serene | tranquil
serene/JJ: calm | tranquil
tranquil/JJ: calm | serene
rustic/JJ: country-style | homespun
smoky/JJ: smoke-filled | hazy
rainy/JJ: rain-soaked | rain-slicked
snowy/JJ: snow-covered
stormy/JJ: storm-tossed | storm-lashed
foggy/JJ: fog-bound | fog-shrouded | misty
misty/JJ: mist-shrouded | mist-covered | foggy
fog/NN: mist
mist/NN: fog
elegant/JJ: graceful | refined
graceful/JJ: elegant
majestic/JJ: regal | stately
mysterious/JJ: enigmatic
eerie/JJ: uncanny | creepy
spooky/JJ: eerie | creepy
creepy/JJ: eerie | spooky
gloomy/JJ: somber | dreary
dreary/JJ: gloomy | bleak
vibrant/JJ: vivid
vivid/JJ: vibrant
intricate/JJ: elaborate | ornate
ornate/JJ: elaborate | decorative
elaborate/JJ: intricate | ornate
messy/JJ: cluttered
cluttered/JJ,VBN: messy
tidy/JJ: neat | orderly
clean/JJ@{_TIDIED}: spotless | tidy
sleepy/JJ: drowsy
curious/JJ: inquisitive
fierce/JJ: ferocious
cute/JJ: adorable
adorable/JJ: cute
funny/JJ: humorous | comical
comedic/JJ: humorous | comical
humorous/JJ: comedic | comical
scary/JJ: frightening | menacing
frightening/JJ: scary | menacing
ominous/JJ: menacing | foreboding
luxurious/JJ: opulent | lavish
opulent/JJ: luxurious | lavish
fancy/JJ: elegant | posh
sweaty/JJ: sweat-soaked
dreamy/JJ: dreamlike | ethereal
ethereal/JJ: otherworldly | dreamy
magical/JJ: enchanted | mystical
whimsical/JJ: playful | fanciful
epic/JJ: sweeping | monumental
lone/JJ: solitary
imposing/JJ: towering | commanding
soft/JJ@light,lighting,glow,shadows,focus: gentle | diffused
gentle/JJ@light,lighting,glow,breeze,smile: soft
harsh/JJ@light,lighting,shadows,sun,sunlight: hard | stark
natural/JJ@light,lighting: ambient
chaotic/JJ: frenzied | hectic
dim/JJ@room,bedroom,kitchen,bar,hall,hallway,corridor,library,office,studio,cellar,basement,alley,tavern,pub: dimly lit
dim/JJ@cafe,café,restaurant,diner,lounge,club,chamber,attic,cabin,apartment,stairwell,warehouse,interior: dimly lit
deserted/JJ@island: uninhabited | desert
deserted/JJ@street,road,beach,station,platform,highway,square,plaza: empty
empty/JJ@street,road,beach,station,platform,highway,square,plaza: deserted
busy/JJ@street,market,road,city,station,intersection,square,plaza,cafe,café,restaurant: bustling | crowded
lush/JJ: verdant
verdant/JJ: lush
desolate/JJ: bleak | barren
barren/JJ: desolate
delicious/JJ: tasty | mouth-watering
shiny/JJ: glossy | gleaming
glossy/JJ: shiny
sparkling/JJ: glittering
glittering/JJ: sparkling
frantic/JJ: frenzied | hectic
lonely/JJ: solitary
solitary/JJ: lone
softly/RB: gently
gently/RB: softly
quietly/RB: silently
silently/RB: quietly
happily/RB: cheerfully | joyfully
wrong/RB: incorrectly | badly
in/IN@room,bedroom,bathroom,kitchen,library,classroom,office,studio,workshop,garage: inside
in/IN@attic,basement,cellar,bar,pub,cafe,café,diner,restaurant,bakery,shop,store: inside
in/IN@church,cathedral,cabin,tent,cave,laboratory,lab,gym,museum,gallery,tavern,hall: inside
in/IN@hallway,corridor,greenhouse,temple,castle,palace,mansion,house,apartment: inside
in/IN@elevator,train,subway,bus,car,cockpit,spaceship,log,box,jar,cage: inside
by/IN@fire,fireplace,window,river,lake,sea,door,pool,pond,road,bed,table,stream,shore: beside | next to
by/IN@campfire,hearth,wall,tree: beside | next to
at/IN@pond,lake,river,stream,shore,fountain,creek,waterfall,seashore: by | beside
near/IN: beside | close to
on/IN@table,desk,shelf,pedestal,plinth,throne,stool,ledge,sill,windowsill,rock,boulder,hill,hilltop,cliff: atop | upon
on/IN@horse,cake,stack,pile,branch,log,tree,pillar,tower,mountain,cabinet: atop | upon
on/IN@leaf,petal,flower,mushroom,strawberry,apple,pumpkin,stone,pebble,plate,tray,saucer,book,beam,girder: atop | upon
on/IN@bell,roof,rooftop,lid,crate,barrel,chest,podium,anvil: atop | upon
on/IN@grass,bench,wall,carpet,rug,bed,sofa,couch,floor,ground,blanket,towel,pillow,cushion,chair,armchair,sand: upon
windy/JJ: wind-swept
sunny/JJ: sunlit
dusty/JJ: dust-covered
icy/JJ: ice-covered | ice-coated
snowy/JJ: snow-covered | snow-clad
foggy/JJ: fog-filled
muddy/JJ: mud-caked
grassy/JJ: grass-covered
highly/RB@detailed: intricately | richly | extremely
big/JJ: large
large/JJ: big
huge/JJ: enormous | massive
enormous/JJ: huge | massive
in/IN@bakery,bookstore,bookshop,boutique,pharmacy,workshop,shed,barn,hut,cottage,igloo,yurt,bunker,vault: inside
in/IN@restroom,locker,closet,wardrobe,pantry,nursery,dormitory,ballroom,auditorium,theater,theatre,cinema: inside
in/IN@arcade,casino,nightclub,club,lounge,salon,parlor,parlour,studio,darkroom,observatory,planetarium,chapel: inside
in/IN@mosque,shrine,monastery,dungeon,prison,cell,cellar,crypt,tomb,tunnel,mine,submarine,aquarium,library: inside
in/IN@apartment,flat,loft,penthouse,hotel,lobby,motel,hospital,clinic,ward,office,cubicle,elevator,kitchen: inside
in/IN@bathroom,bathtub,bedroom,classroom,laboratory,lab,factory,warehouse,hangar,garage,mall,supermarket: inside
in/IN@tavern,inn,saloon,restaurant,diner,cafeteria,canteen,pub,bar,cafe,café,gym,arena,dojo,spaceship,cockpit: inside
in/IN@forge,smithy,stable,ballroom,nursery,bookstore,bookshop,arcade,casino,nightclub,spa,sauna,kitchenette: inside
on/IN@counter,countertop,worktop,bar,ledge,mantel,mantelpiece,dresser,nightstand,bookshelf,crate,barrel: atop | upon
on/IN@stage,ridge,mountaintop,summit,peak,dune,cliffs: atop | upon
on/IN@platform,balcony,porch,deck,pier,dock,roof,rooftop,rooftops: upon
on/IN@beach,shore,street,road,path,bridge,lawn,field,meadow,hillside,riverbank,bank,pavement,sidewalk: upon
on/IN@table,tabletop,plate,tray,saucer,windowsill,sill,shelf,pillow,cushion,pad,leaf,lily,stone,skateboard: upon
by/IN@fireside,lake,lakeside,window,windows,sea,seaside,ocean,bed,bedside: beside | next to
by/IN@door,doorway,gate,road,roadside: beside | next to
by/IN@canal,well,fountain,pond,pool,creek,brook,waterfall,river,riverside: beside | next to
by/IN@shore,cliff,car,piano,tree,trees: beside | next to
beside/IN: next to | alongside
under/IN@moon,stars,sky,skies,tree,trees,bridge,table,umbrella,arch,archway,blanket,blankets: beneath | underneath
under/IN@covers,bed,sea,ocean,waves,clouds,canopy,blossoms,leaves,branches,streetlight: beneath | underneath
under/IN@streetlamp,lamppost,lamp,lights,sun,moonlight,starlight,stairs,staircase,desk,rock: beneath | underneath
under/IN@dome,roof,awning,porch,tent,quilt,duvet,boughs,willow: beneath | underneath
beneath/IN@moon,stars,sky,skies,tree,trees,bridge,table,umbrella,arch,archway,blanket,clouds,canopy,blossoms: under
amid/IN: among | amidst
in/IN@summer,winter,autumn,spring,springtime,summertime,wintertime: during
during/IN@summer,winter,autumn,spring,springtime,summertime,wintertime: in
in/IN@desert,wilderness,countryside,rain,snow,snowfall,storm,cold,fields,field,meadow,prairie: out in
asleep/JJ: fast asleep | sound asleep
fresh/JJ@snow,snowfall,powder: freshly fallen
jumping/VBG: leaping
among/IN: amid | amidst
woman/NN: lady
women/NNS: ladies
cat/NN: feline
cats/NNS: felines
sea/NN: ocean
ocean/NN: sea
landscape/NN: scenery | vista
cafe/NN: café
burger/NN: hamburger
burgers/NNS: hamburgers
sitting/VBG: seated
sofa/NN: couch
photo/NN: photograph
photos/NNS: photographs
photograph/NN: photo
photographs/NNS: photos
muted/JJ,VBN@colors,colours,tones,palette,hues,light,lighting: subdued
examining/VBG: inspecting | studying
crossing/VBG: traversing
couch/NN: sofa
woods/NNS: forest
automobile/NN: car
cellphone/NN: mobile phone | smartphone
smartphone/NN: mobile phone | phone
rubbish/NN: trash | garbage
trash/NN: garbage | rubbish
garbage/NN: trash | rubbish
chaos/NN: turmoil | mayhem
repairing/VBG: fixing
fixing/VBG: repairing
shouting/VBG: yelling
yelling/VBG: shouting
massive/JJ: huge | enormous
huge/JJ: enormous | massive
enormous/JJ: huge | massive
gigantic/JJ: enormous | colossal
big/JJ@eyes,window,windows,moon,house,tree,city,castle,dragon,robot,wave,waves,mountain,rock,ship,bowl,cake: large
big/JJ@room,hall,library,garden,field,lake,crowd,fire,explosion,mansion,building,tower,clock,mirror,hat: large
large/JJ@eyes,window,windows,moon,house,tree,city,castle,dragon,robot,wave,waves,mountain,rock,ship,bowl,cake: big
large/JJ@room,hall,library,garden,field,lake,crowd,fire,explosion,mansion,building,tower,clock,mirror,hat: big
flying/VBG@{_FLIERS}: soaring
through/IN@field,fields,meadow,meadows,desert,plain,plains,tundra,snow,grass,wheat,sand,dunes,prairie: across
across/IN@field,fields,meadow,meadows,desert,plain,plains,tundra,snow,grass,wheat,sand,dunes,prairie: through
during/IN@storm,thunderstorm,rainstorm,blizzard,snowstorm,downpour,sandstorm,hailstorm,snowfall,monsoon: amid
during/IN@battle,festival,celebration,parade,fireworks,carnival: amid
swirling/VBG: whirling
crashing/VBG@waves,wave,surf,breakers,sea,ocean: breaking
colossal/JJ: huge | enormous
old/JJ@man,woman,men,women,lady,ladies,gentleman,fisherman,sailor,farmer,couple,monk,priest: elderly | aged
old/JJ@beggar,wizard,witch,king,queen,soldier,knight,hermit,shopkeeper,craftsman,carpenter: elderly | aged
old/JJ@librarian,professor,shepherd,woodcutter,painter,artist,musician,fishermen,sailors: elderly | aged
heavy/JJ@rain,rainfall,downpour: pouring | driving
scared/JJ: frightened | afraid
frightened/JJ: scared | afraid
surprised/JJ: astonished
astonished/JJ: amazed | astounded
shocked/JJ: stunned | aghast
confused/JJ: puzzled | bewildered
puzzled/JJ: confused | perplexed
nervous/JJ: anxious
anxious/JJ: nervous
worried/JJ: anxious | concerned
determined/JJ: resolute | steely
pensive/JJ: thoughtful | contemplative
thoughtful/JJ: pensive | contemplative
shy/JJ: bashful | timid
grumpy/JJ: grouchy | cranky
excited/JJ: thrilled | elated
bored/JJ: listless | uninterested
relaxed/JJ: laid-back | unhurried
focused/JJ: intent | absorbed
cheeky/JJ: impish | mischievous
mischievous/JJ: impish | cheeky
sinister/JJ: menacing | malevolent
menacing/JJ: threatening | sinister
bleak/JJ: grim | desolate
dynamic/JJ@pose,poses,action,movement: energetic | lively
quaint/JJ: charming | picturesque
picturesque/JJ: scenic | charming
scenic/JJ: picturesque
charming/JJ: delightful
bustling/JJ: busy
mighty/JJ: powerful | formidable
powerful/JJ: mighty
brave/JJ: courageous | valiant
heroic/JJ@knight,knights,warrior,warriors,soldier,soldiers,hero,heroes,man,men,woman,women: valiant | gallant
heroic/JJ@king,queen,prince,princess,pose,stance,deed,deeds,rescue,charge,sacrifice: valiant | gallant
wise/JJ: sage | learned
fearsome/JJ: formidable | terrifying
noisy/JJ: loud
silent/JJ: hushed | quiet
hushed/JJ: quiet | silent
elderly/JJ: old | aged
weathered/JJ@face,hands,skin: weather-beaten | lined
motorcycle/NN: motorbike
motorcycles/NNS: motorbikes
motorbike/NN: motorcycle
laboratory/NN: lab
lab/NN: laboratory
bicycle/NN: bike
seagull/NN: gull
seagulls/NNS: gulls
alleyway/NN: alley
puppy/NN: pup
puppies/NNS: pups
blacksmith/NN: smith
dock/NN: pier
pier/NN: jetty
jetty/NN: pier
grandma/NN: grandmother
grandpa/NN: grandfather
chalkboard/NN: blackboard
blackboard/NN: chalkboard
hallway/NN: corridor
corridor/NN: hallway
blizzard/NN: snowstorm
snowstorm/NN: blizzard
pedestal/NN: plinth
coastline/NN: coast
twilight/NN: dusk
lady/NN: woman
ladies/NNS: women
rusty/JJ: rusted
rusted/JJ,VBN: rusty
derelict/JJ: abandoned
symmetrical/JJ: symmetric
mending/VBG: repairing
staring/VBG: gazing
seated/VBN,JJ: sitting
harbor/NN: harbour
harbour/NN: harbor
cozy/JJ: cosy
cosy/JJ: cozy
savanna/NN: savannah
theater/NN: theatre
theatre/NN: theater
jewelry/NN: jewellery
airplane/NN: plane
television/NN: TV
coast/NN: coastline
shore/NN: shoreline
shoreline/NN: shore
store/NN: shop
thick/JJ,NN@fog,mist,smoke,haze,jungle,forest,woods,undergrowth,foliage,steam,clouds: dense
dense/JJ@fog,mist,smoke,haze,jungle,forest,woods,undergrowth,foliage,steam,clouds: thick
vast/JJ: immense | expansive
immense/JJ: vast | enormous
endless/JJ: boundless | never-ending
cold/JJ@night,nights,morning,evening,day,wind,winds,air,breeze,winter,dawn: chilly | frigid
chilly/JJ: cold | brisk
bright/JJ@sun,sunlight,sunshine,light,day,morning,moon,moonlight,stars,star,spotlight,lights: brilliant | radiant
brilliant/JJ@sun,sunlight,sunshine,light,day,morning,moon,moonlight,stars,star,lights: bright | radiant
quaint/JJ@village,town,cottage,cafe,café,shop,street,harbor: charming | picturesque
towering/PRE,JJ: soaring | lofty
gleaming/PRE,JJ,VBG: shining | glinting
shining/PRE,JJ,VBG@armor,armour,sword,blade,helmet,shield,car,chrome,metal,steel,stars,star,eyes,sun: gleaming
shimmering/PRE,JJ,VBG: glimmering | shimmery
glimmering/PRE,JJ,VBG: shimmering
crumbling/PRE,JJ,VBG: decaying
blazing/PRE,JJ,VBG@fire,fireplace,campfire,hearth,bonfire,fires: roaring
blazing/PRE,JJ@sun,heat: scorching
rising/VBG@steam,smoke,mist,vapor,vapour,fumes: curling | wafting
falling/VBG@snowflakes,flakes,ash,ashes,feathers: drifting
falling/VBG@leaves,leaf,petals,blossoms,confetti,sakura: drifting | tumbling
dripping/VBG@syrup,honey,water,paint,wax,sauce,caramel,chocolate,icing,glaze,rain,rainwater,juice: trickling | running
trickling/VBG: dripping
billowing/VBG@{_CLOTH}: fluttering
fluttering/VBG@{_CLOTH}: billowing
piercing/VBG@{_RAYS}: cutting through | breaking through
streaming/VBG@{_RAYS}: pouring | spilling
pouring/VBG@{_RAYS}: streaming | spilling
wandering/VBG: roaming
roaming/VBG: wandering
strolling/VBG: ambling
sprinting/VBG: dashing
gazing/VBG: looking
clutching/VBG: gripping
gripping/VBG: clutching
toward/IN: towards
towards/IN: toward
alongside/IN: beside
"""


# Noun twins that stay twins after any noun naming a kind of them ("a science lab" = "a science laboratory",
# "a racing motorcycle" = "a racing motorbike"); any other twin keeps its word there ("a house cat" is no "house
# feline", "a storm sea" no "storm ocean").
TWINS_IN_COMPOUNDS = frozenset(
    """sofa couch motorcycle motorcycles motorbike bicycle lab laboratory cafe café
    burger burgers hamburger hamburgers cellphone smartphone television airplane alley alleyway
    photo photos photograph photographs""".split()
)

# Noun twins change at this share of the rate of other synonyms: a reader checks a picture by its nouns.
NOUN_RATE = 0.5

# Expressions whose words never change one by one: a "hot dog" is not a "hot hound", "fast food" not "speeding
# food". Matched case-insensitively on the phrase; a word inside one is left alone.
MULTIWORD = (
    "hot dog", "hot dogs", "fast food", "golden hour", "blue hour", "wide shot", "wide angle", "wide-angle",
    "grand piano", "high school", "school uniform", "sharp focus", "soft focus", "depth of field", "big cat",
    "big cats", "little finger", "dead end", "old town", "new year", "full moon", "half moon", "black and white",
    "ice cream", "french fries", "teddy bear", "polar bear", "red panda", "golden retriever", "hot air balloon",
    "living room", "dining room", "coffee shop", "food truck", "fire truck", "street food", "street art",
    "fine art", "pop art", "still life", "low angle", "high angle", "close up", "close-up", "bird's eye view",
    "top view", "side view", "front view", "back view", "quiet place", "happy hour", "tiny house", "empty space",
    "clean lines", "calm sea", "big bang", "dim sum", "stained glass", "glass ceiling", "stone age", "iron age",
    "old man's beard", "old master", "old masters", "cast iron", "cast-iron", "wrought iron", "wrought-iron",
    "stainless steel", "brushed steel", "silent film", "silent films", "silent movie", "silent era",
    "clay court", "clay courts", "grass court", "clay pigeon", "sheet metal", "sea glass", "steel wool", "ice age",
    "iron man", "large format", "large-format", "big band", "big top", "volumetric fog", "fog of war",
)  # fmt: skip


# Two-word expressions said another way as a whole ("made of chocolate" → "crafted from chocolate").
PHRASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("made", "of"): ("made from", "crafted from", "formed from"),
    ("shaped", "like"): ("in the shape of",),
    ("crowded", "with"): ("packed with",),
    ("overgrown", "with"): ("overrun with",),
    ("made", "from"): ("made of", "crafted from"),
    ("covered", "in"): ("covered with",),
    ("covered", "with"): ("covered in",),
    ("dressed", "in"): ("clad in",),
    ("clad", "in"): ("dressed in",),
    ("next", "to"): ("beside",),
    ("looks", "like"): ("resembles", "mimics"),
    ("look", "like"): ("resemble", "mimic"),
    ("looking", "like"): ("resembling",),
    ("lit", "by"): ("illuminated by",),
    ("filled", "with"): ("full of",),
    ("reimagined", "as"): ("reinterpreted as", "recast as"),
    ("full", "of"): ("filled with",),
    # a time said with what happens then, its own word kept ("at dawn" → "as dawn breaks"; "at night" stays:
    # "nighttime" would lose the word, "as night falls" is dusk)
    ("at", "dawn"): ("as dawn breaks",),
    ("at", "dusk"): ("as dusk falls",),
    ("at", "twilight"): ("as twilight falls",),
    ("at", "sunset"): ("in the glow of sunset",),
    ("at", "sunrise"): ("in the glow of sunrise",),
    ("close", "to"): ("near",),
    ("at", "noon"): ("at midday",),
    ("at", "midday"): ("at noon",),
    ("rays", "of"): ("shafts of",),
    ("shafts", "of"): ("rays of",),
    # a colour scheme said with its other nouns ("warm colors" = "warm tones" = "warm hues")
    **{
        (adj, noun): tuple(f"{adj} {alt}" for alt in ("tones", "hues", "colors") if alt != noun)
        for adj in ("warm", "cool", "pastel", "muted", "vibrant", "earthy", "soft", "neon", "vivid", "bright", "dark")
        for noun in ("colors", "colours", "tones", "hues")
    },
}


# An action said as a noun phrase of its own family ("kissing" → "sharing a kiss", "smiling" → "wearing a
# smile"): the same moment, and the word a reader checks it by stays. Only for the verb without an object; those
# marked bare only when nothing hangs on them either ("smiling at the camera" is not "wearing a smile at the
# camera"). A phrase that loses the verb's family ("meditating" → "in meditation", "kneeling" → "on bended
# knee") is not here, nor a verb twin that narrows or renames the action ("walking" → "strolling", "fighting" →
# "battling", "hugging" → "embracing"): a reader checks the picture by its verbs.
ACTION_PHRASES: dict[str, tuple[str, ...]] = {
    "kissing": ("sharing a kiss", "locked in a kiss"),
    "posing": ("striking a pose",),
    "smiling": ("wearing a smile",),
}
ACTION_PHRASES_BARE = frozenset({"smiling", "posing"})


# A state said after its noun, in the words of its own family ("a snowy ridge" → "a ridge covered in snow",
# "a candlelit library" → "a library lit by candles"): the same picture, and the word a reader checks it by
# (snow, candle) is still there. Only where the adjective sits right before its noun (:func:`rules._choices`).
STATES: dict[str, tuple[str, ...]] = {
    "snowy": ("covered in snow", "blanketed in snow"),
    "snow-covered": ("covered in snow", "blanketed in snow"),
    "foggy": ("shrouded in fog", "wrapped in fog"),
    "misty": ("shrouded in mist", "veiled in mist"),
    "rainy": ("wet with rain", "slick with rain"),
    "rain-soaked": ("soaked by rain", "wet with rain"),
    "sunny": ("bathed in sunshine", "full of sunshine"),
    "sunlit": ("lit by the sun", "bathed in sunlight"),
    "moonlit": ("bathed in moonlight",),
    "candlelit": ("lit by candles", "lit by candlelight"),
    "neon-lit": ("lit by neon", "glowing with neon"),
    "starry": ("full of stars", "filled with stars"),
    "star-filled": ("full of stars",),
    "cloudy": ("full of clouds",),
    "windy": ("swept by wind",),
    "dusty": ("covered in dust", "thick with dust"),
    "icy": ("covered in ice", "coated in ice"),
    "frosty": ("covered in frost", "rimed with frost"),
    "muddy": ("covered in mud", "caked in mud"),
    "smoky": ("filled with smoke", "thick with smoke"),
    "sandy": ("covered in sand",),
    "grassy": ("covered in grass",),
    "mossy": ("covered in moss", "overgrown with moss"),
    "ruined": ("in ruins", "lying in ruins"),
}
# What a thing is made of, said after it ("a stone statue" → "a statue carved from stone"). The material's own word
# stays (an adjective such as "wooden" is not here: "made of wood" would lose it). Not for kinds that only look
# like a material phrase ("ice cream", "crystal ball", "stained glass", "a bamboo grove").
MATERIALS: dict[str, tuple[str, ...]] = {
    "stone": ("made of stone", "carved from stone"),
    "marble": ("made of marble", "carved from marble"),
    "granite": ("made of granite", "carved from granite"),
    "wood": ("made of wood", "crafted from wood"),
    "glass": ("made of glass",),
    "crystal": ("made of crystal",),
    "ice": ("made of ice", "carved from ice"),
    "velvet": ("made of velvet",),
    "silk": ("made of silk",),
    "satin": ("made of satin",),
    "leather": ("made of leather",),
    "wool": ("made of wool", "knitted from wool"),
    "denim": ("made of denim",),
    "lace": ("made of lace",),
    "metal": ("made of metal",),
    "steel": ("made of steel", "forged from steel"),
    "iron": ("made of iron", "forged from iron"),
    "brass": ("made of brass",),
    "tin": ("made of tin",),
    "chrome": ("made of chrome",),
    "paper": ("made of paper",),
    "cardboard": ("made of cardboard",),
    "clay": ("made of clay", "sculpted from clay"),
    "porcelain": ("made of porcelain",),
    "ceramic": ("made of ceramic",),
    "terracotta": ("made of terracotta",),
    "brick": ("made of brick", "built of brick"),
    "concrete": ("made of concrete",),
    "plastic": ("made of plastic",),
    "wicker": ("woven from wicker",),
    "lego": ("built from lego",),
    "chocolate": ("made of chocolate", "crafted from chocolate"),
}
MATERIAL_NOT_BEFORE = frozenset(
    """airplane airplanes plane planes boat boats crane cranes
    cream creams age ages rink rinks hockey skating skater skates cube cubes tea coffee cap caps pick bucket
    ball balls ceiling ceilings grove groves forest field garden tree trees plant plants cake cakes cookie cookies
    chip chips milk bar bars sauce pudding mousse truffle truffles frosting fountain fountains bunny curtain
    queen king man woman girl boy golem giant maiden heart hearts clearing pond sea lake planet planets world
    worlds texture textures pattern patterns effect finish look style tone tones color colors colour colours
    skin engraving engravings etching etchings plate plates print prints photograph photographs photo photos
    box boxes""".split()  # "marble texture", "porcelain skin" is how it looks, never "a texture made of marble";
    # "a steel engraving", "a glass plate photograph" name a way of making a picture, never "an engraving forged from
    # steel"; "a brick box" (a toy's) is no box built of brick
)


# A kind said with the class it belongs to, the way people write it ("a samurai" → "a samurai warrior",
# "ramen" → "ramen noodles", "corgis" → "corgi dogs"): the same thing, one more word to read it by. Only where
# the word heads its noun phrase ("a katana sword", never "a samurai warrior sword").
KINDS: dict[str, str] = {
    "samurai": "samurai warrior",
    "ninja": "ninja warrior",
    "viking": "viking warrior",
    "vikings": "viking warriors",
    "gladiator": "gladiator warrior",
    "spartan": "spartan warrior",
    "katana": "katana sword",
    "katanas": "katana swords",
    "rapier": "rapier sword",
    "scimitar": "scimitar sword",
    "claymore": "claymore sword",
    "ramen": "ramen noodles",
    "udon": "udon noodles",
    "soba": "soba noodles",
    "spaghetti": "spaghetti pasta",
    "corgi": "corgi dog",
    "corgis": "corgi dogs",
    "poodle": "poodle dog",
    "beagle": "beagle dog",
    "dachshund": "dachshund dog",
    "husky": "husky dog",
    "chihuahua": "chihuahua dog",
    "pug": "pug dog",
    "shiba": "shiba dog",
    "dalmatian": "dalmatian dog",
    "labrador": "labrador dog",
    "tabby": "tabby cat",
    "kraken": "kraken sea monster",
    "leviathan": "leviathan sea monster",
    "t-rex": "t-rex dinosaur",
    "triceratops": "triceratops dinosaur",
    "velociraptor": "velociraptor dinosaur",
    "stegosaurus": "stegosaurus dinosaur",
    "brachiosaurus": "brachiosaurus dinosaur",
    "mech": "mech robot",
    "mecha": "mecha robot",
    "android": "android robot",
    "cyborg": "cyborg robot",
    "koi": "koi fish",
    "tulip": "tulip flower",
    "daisy": "daisy flower",
    "orchid": "orchid flower",
    "lotus": "lotus flower",
    "oak": "oak tree",
    "willow": "willow tree",
    "birch": "birch tree",
    "maple": "maple tree",
    "sequoia": "sequoia tree",
    "baobab": "baobab tree",
    "bonsai": "bonsai tree",
    "croissant": "croissant pastry",
    "croissants": "croissant pastries",
    "espresso": "espresso coffee",
    "cappuccino": "cappuccino coffee",
    "latte": "latte coffee",
    "sedan": "sedan car",
    "convertible": "convertible car",
    "limousine": "limousine car",
    "zeppelin": "zeppelin airship",
    "gondola": "gondola boat",
    "canoe": "canoe boat",
    "kayak": "kayak boat",
    "yacht": "yacht boat",
    "galleon": "galleon ship",
    "schooner": "schooner ship",
    "sphinx": "sphinx statue",
    "gargoyle": "gargoyle statue",
    "gargoyles": "gargoyle statues",
    "pagoda": "pagoda temple",
    "yurt": "yurt tent",
    "teepee": "teepee tent",
    "tipi": "tipi tent",
}


@dataclass(frozen=True)
class Entry:
    """A synonym entry: ``word`` with one of ``tags`` (and, when given, one of ``heads`` as its head noun)."""

    word: str
    tags: frozenset[str]
    heads: frozenset[str]
    alternatives: tuple[str, ...]


@lru_cache(maxsize=1)
def senses() -> dict[str, tuple[Entry, ...]]:
    """Lower-case word -> its entries, parsed once from the table above. A word has several when its lines
    give different alternatives for different heads ("on a pedestal" → "atop"/"upon", "on a wall" → "upon")."""
    table: dict[str, list[Entry]] = {}
    for line in _RAW.strip().splitlines():
        key, _, rest = line.partition(":")
        word, _, spec = key.strip().partition("/")
        tags, _, heads = spec.partition("@")
        alts = tuple(a.strip() for a in rest.split("|") if a.strip() and a.strip() != word)
        if not alts:
            continue
        entry = Entry(
            word,
            frozenset(t.strip() for t in tags.split(",") if t.strip()),
            frozenset(h.strip() for h in heads.split(",") if h.strip()),
            alts,
        )
        entries = table.setdefault(word, [])
        same = next((k for k, e in enumerate(entries) if e.alternatives == alts and e.heads and entry.heads), None)
        if same is not None:  # a long head list, wrapped over several lines
            known = entries[same]
            entries[same] = Entry(word, known.tags | entry.tags, known.heads | entry.heads, alts)
        else:
            entries.append(entry)
    return {word: tuple(entries) for word, entries in table.items()}


def lexicon() -> dict[str, Entry]:
    """Lower-case word -> its first entry (:func:`senses` has them all)."""
    return {word: entries[0] for word, entries in senses().items()}


def alternatives(word: str, tag: str, head: str = "") -> tuple[str, ...]:
    """True synonyms of ``word`` read as part of speech ``tag`` (its head noun ``head``), or ``()``."""
    for entry in senses().get(word.lower(), ()):
        if tag in entry.tags and (not entry.heads or head.lower() in entry.heads):
            return entry.alternatives
    return ()


@lru_cache(maxsize=1)
def vocabulary() -> frozenset[str]:
    """Every word the lexicon and the framings know: English by construction (name detection uses it)."""
    words: set[str] = set()
    for entry in (e for entries in senses().values() for e in entries):
        for phrase in (entry.word, *entry.alternatives):
            words.update(w for w in phrase.replace("-", " ").split() if w.isalpha())
    for framing in (*NP_FRAMINGS, *CLAUSE_FRAMINGS, *SPARE_FRAMINGS):
        words.update(w.lower() for w in framing.replace("{x}", " ").replace(":", " ").replace(",", " ").split())
    for phrase in (*MATERIALS, *STATES, *KINDS.values()):  # "terracotta", "ramen noodles": words the engine says
        words.update(w for w in phrase.replace("-", " ").split() if w.isalpha())
    return frozenset(words)


# Openings for a noun phrase ("a woman laughing in a field"). Medium-neutral: none says "photo" or "painting"
# (the user's own medium words decide), none adds a direction, a number or a colour.
NP_FRAMINGS: tuple[str, ...] = (
    "Envision {x}",
    "Picture {x}",
    "Imagine {x}",
    "Visualize {x}",
    "A depiction of {x}",
    "A scene showing {x}",
    "An image of {x}",
    "A view of {x}",
    "A portrayal of {x}",
    "A glimpse of {x}",
    "Here we see {x}",
    "This image shows {x}",
    "The scene: {x}",
    "Shown here is {x}",
    "A composition featuring {x}",
    "A frame showing {x}",
    "Depicted: {x}",
    "Behold {x}",
    "A tableau of {x}",
    "A vision of {x}",
    "Pictured: {x}",
    "Featuring {x}",
    "Presenting {x}",
    "An interpretation of {x}",
    "A representation of {x}",
    "A look at {x}",
    "The image captures {x}",
    "What we see: {x}",
    "A rendition of {x}",
)
# Openings used only when a short prompt has fewer distinct lines than asked for ("a castle": 30 with the
# framings above); a longer prompt never needs them, so they never crowd the others out.
SPARE_FRAMINGS: tuple[str, ...] = ("Here is {x}", "Observe {x}", "A study of {x}", "Consider {x}", "Look: {x}")
# Openings for a full clause ("a woman is laughing in a field"): a noun-phrase framing would not parse.
CLAUSE_FRAMINGS: tuple[str, ...] = (
    "In this image, {x}",
    "Here, {x}",
    "In this scene, {x}",
    "In the picture, {x}",
    "We see that {x}",
    "The scene shows that {x}",
)
